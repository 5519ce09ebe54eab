"""One function per Snakemake rule: read the rule's inputs, call the stage's logic, write its
outputs and audit. Rule name = script name = function name = log stem.
"""

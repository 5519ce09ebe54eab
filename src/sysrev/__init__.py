"""sysrev: a reproducible systematic-review and meta-analysis pipeline.

The package mirrors the pipeline's stages: :mod:`sysrev.search` (PubMed snapshots),
:mod:`sysrev.imports` (database exports), :mod:`sysrev.dedup`, :mod:`sysrev.screening`,
:mod:`sysrev.extraction`, :mod:`sysrev.meta` (effect sizes and pooling),
:mod:`sysrev.analysis`, :mod:`sysrev.prisma` and :mod:`sysrev.plots`.
"""

__version__ = "0.1.0"

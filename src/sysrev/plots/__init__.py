"""Figures: forest plots (and, later, funnel, risk-of-bias and PRISMA flow diagrams)."""

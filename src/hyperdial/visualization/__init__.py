"""Plots of a study: the data (`data`), plotly.js figure specs (`spec`), and figures (`plot`)."""

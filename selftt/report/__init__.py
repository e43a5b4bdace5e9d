"""Results report: collect finished runs' ``results.json`` into Markdown tables, a CSV and figures."""

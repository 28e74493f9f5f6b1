"""Pictures and pages of a written dataset: preview contact sheets and GIFs, the HTML report.
"""

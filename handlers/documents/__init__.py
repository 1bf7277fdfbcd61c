"""The files offices open: the Excel workbook, the charts, the periodic report."""

"""Everything a customer reads: message catalogs (id, en) and Indonesian formatting."""

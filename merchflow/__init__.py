"""merchflow: durable automation for sellers on several marketplaces (shell / infrastructure package)."""

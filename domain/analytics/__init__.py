"""Sales and inventory analytics a seller acts on: inventory aging with value at risk, top / worst performers,
a 30-day revenue projection with its interval, channel comparison, sell-through and stock-out days, customer
segments (RFM + K-Means on pseudonymised buyers). Pure, vectorised computation; `today` and keys come in."""

"""Replenishment: reorder points with safety stock from the forecast's error, EOQ, ABC / XYZ classes, MOQ and
pack-size rounding, and reorder suggestions grouped by supplier. Pure computation over whole catalogues at once."""

"""Digital-footprint indicators: per-commune facts, catalogue, aggregation at every level."""

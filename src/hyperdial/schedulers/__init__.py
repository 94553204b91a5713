"""Training-aware scheduling: population-based training (`PBT`, `PB2`)."""

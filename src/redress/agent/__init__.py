"""The platform agent: follows hubs' feeds, answers `check`, holds matches for review, and
sends feedback back to the hubs."""

"""Instructor tooling for ConvNets from Scratch: release, grade and demo on nbgrader."""

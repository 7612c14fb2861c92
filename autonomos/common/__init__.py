"""The shared kernel: small building blocks every package may use (text today).

Nothing here imports another ``autonomos`` package.
"""

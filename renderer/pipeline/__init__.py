"""The stages run together: generate a dataset (local or Ray executors), make one frame, plan balance.
"""

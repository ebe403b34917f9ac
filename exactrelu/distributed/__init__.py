"""Scale-out: the exponential analyses split into independent tasks, run in-process, on an
embedded Dask ``LocalCluster`` or on a Dask cluster, merged deterministically (`executor`)."""

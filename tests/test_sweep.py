import numpy as np
import pytest

from randfield.montecarlo import SimulationConfig
from randfield.sweep import run_sweep, simulate_job


def _configs():
    return [SimulationConfig("tanh", sw, 0.05, width=64, depth=5, n_networks=3, seed=7) for sw in (1.0, 1.5, 2.0, 3.0)]


def test_process_pool_sweep_equals_the_serial_run():
    serial = run_sweep(simulate_job, _configs(), workers=1)
    pooled = run_sweep(simulate_job, _configs(), workers=2)
    for a, b in zip(serial, pooled):
        assert a.config == b.config
        np.testing.assert_array_equal(a.q, b.q)


def test_dask_local_cluster_sweep():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            out = run_sweep(simulate_job, _configs(), scheduler=client)
    serial = run_sweep(simulate_job, _configs(), workers=1)
    for a, b in zip(serial, out):
        np.testing.assert_array_equal(a.q, b.q)


def test_bad_workers():
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        run_sweep(simulate_job, _configs(), workers=0)

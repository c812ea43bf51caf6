"""A two-process Dask cluster on loopback, started once per module and always shut down."""
import os
import warnings

import pytest


@pytest.fixture(scope="module")
def dask_client():
    """A ``Client`` on a ``LocalCluster`` of 2 worker processes, 1 thread each.

    The workers are spawned processes: they must import the cyneuron under
    test, not another copy, so the directory it comes from is put first on
    the PYTHONPATH they inherit (in CI it is the installed wheel's
    site-packages, a no-op) and the fixture checks what they imported.
    """
    from dask.distributed import Client, LocalCluster

    import cyneuron

    here = os.path.dirname(os.path.dirname(os.path.abspath(cyneuron.__file__)))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = here if not old else here + os.pathsep + old
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # "Port ... is already in use" and similar
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   silence_logs=40)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    try:
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=60)
            files = client.run(lambda: __import__("cyneuron").__file__)
            assert len(files) == 2
            assert set(files.values()) == {cyneuron.__file__}, files
            yield client
    finally:
        cluster.close()

# Included by _core.pyx (at its end): hooks for tests, benchmarks and bug
# reports (codes, build probes, variant forcing, counters); nothing in the
# training or inference path calls them.

def codes():
    """The activation, loss and optimizer codes compiled into the core (the
    rows of CYN_CODES in csrc/cyn_kernels.h), for the test that checks
    cyneuron._registry."""
    cdef int n, i
    cdef const cyn_code *rows = cyn_codes(&n)
    kinds = {"ACT": "activation", "LOSS": "loss", "OPT": "optimizer"}
    out = {kind: {} for kind in kinds.values()}
    for i in range(n):
        out[kinds[rows[i].kind.decode()]][rows[i].name.decode()] = rows[i].code
    return out


def set_portable_variant(name):
    """Run numerics="portable" with the portable loop variant `name` (None:
    the widest this CPU runs); returns the previous name.

    For tests: every variant gives the same bits. Not to be called while
    another thread trains.
    """
    old = _PORTABLE_VARIANTS[_pvar]
    if name is None:
        _portable_use(_portable_best())
        return old
    if name not in _PORTABLE_VARIANTS or not cynp_variant_supported(
            _PORTABLE_VARIANTS.index(name)):
        raise ValueError(f"unknown or unsupported portable variant {name!r}")
    _portable_use(_PORTABLE_VARIANTS.index(name))
    return old


def numpy_log(floating[::1] x):
    """Apply NumPy's log loop in place through the core (for self-checks)."""
    with nogil:
        vlog(&x[0], x.shape[0], False)


def numpy_log1p(floating[::1] x):
    """Apply NumPy's log1p loop in place through the core (for self-checks)."""
    with nogil:
        vlog1p(&x[0], x.shape[0], False)


def numpy_exp(floating[::1] x):
    """Apply NumPy's exp loop in place through the core (for self-checks)."""
    with nogil:
        vexp(&x[0], x.shape[0], False)


def numpy_tanh(floating[::1] x):
    """Apply NumPy's tanh loop in place through the core (for self-checks)."""
    with nogil:
        vtanh(&x[0], x.shape[0], False)


def count_correct(const floating[:, ::1] a, const floating[:, ::1] y):
    """The training loop's accuracy count of outputs `a` against targets `y`
    (reference.correct_predictions), for the test that compares the two."""
    if a.shape[0] != y.shape[0] or a.shape[1] != y.shape[1] or a.shape[1] < 1:
        raise ValueError("a and y must have the same shape, at least one column")
    if a.shape[0] == 0:
        return 0
    return correct_predictions(&a[0, 0], &y[0, 0], a.shape[0], a.shape[1])


def build_info():
    """Facts about how this extension was compiled, for tests and bug reports."""
    return {"fp_contract_off": bool(cyn_fp_contract_off()),
            "cpu_has_fma": bool(cyn_probe_cpu_has_fma())}


def probe_mul_add(double a, double b, double c):
    """a*b + c as the compiled kernels evaluate it (fused only if contraction is on)."""
    return cyn_probe_mul_add(a, b, c)

def kernel_variants():
    """Names of the compiled product kernels and whether this CPU runs them."""
    return {cyn_variant_name(v).decode(): bool(cyn_variant_supported(v))
            for v in range(cyn_variant_count())}


def kernel_variant():
    """Name of the variant in use (the best supported one unless forced)."""
    return cyn_get_variant_name()


cdef str cyn_get_variant_name():
    return cyn_variant_name(cyn_get_variant()).decode()


def small_product_limit():
    """Products below this many multiply-adds take the inline tiny-net path
    (when no kernel variant is forced)."""
    return CYN_SMALL_PRODUCT


def worker_jobs():
    """Product jobs run on worker threads since import (for tests)."""
    return cyn_worker_jobs()


def pool_late_passes():
    """Passes after which the caller found the worker late and went on alone
    for a while (a starved worker: see cyn_run_jobs in csrc/cyn_kernels.c)."""
    return cyn_pool_late_passes()


def pool_crowded_starts():
    """Windows of passes the caller began alone because this process's other
    runnable threads (another library's spinning pool) left too few cores for
    the workers (Linux; see cyn_crowded in csrc/cyn_kernels.c)."""
    return cyn_pool_crowded_starts()


_POOL_RULES = {"late": CYN_RULE_LATE, "crowded": CYN_RULE_CROWDED, "probes": CYN_RULE_PROBES,
               "balance": CYN_RULE_BALANCE}


def pool_adaptive(on=None):
    """The pool's adaptive rules (see cyn_run_jobs in csrc/cyn_kernels.c).
    Those that make the caller run a pool's passes alone for a while: "late"
    (a late worker, or a window's low CPU share), "crowded" (a window begins
    with too few free cores, Linux) and "probes" (a pass as fast alone as on
    the pool); and "balance", which cuts a two-part pass at the threads'
    measured speeds (no bits depend on it). All are on by default. `on` sets them: True (all), False (none) or a collection
    of rule names; tests that count handed-out jobs turn them off. Returns
    the rules on before, as a frozenset of names (empty: falsy). Never while
    another thread trains."""
    cdef int bits = -1
    if on is True or on is False:
        bits = CYN_RULES_ALL if on else 0
    elif on is not None:
        if isinstance(on, str):
            raise TypeError(f"on must be a bool or a collection of rule names, got {on!r}")
        names = frozenset(on)
        unknown = names - _POOL_RULES.keys()
        if unknown:
            raise ValueError(f"on names unknown rules {sorted(unknown)}; the rules are "
                             f"{sorted(_POOL_RULES)}")
        bits = sum(_POOL_RULES[n] for n in names)
    was = cyn_pool_adaptive(bits)
    return frozenset(n for n, b in _POOL_RULES.items() if was & b)


def pool_probe(every=None, percent=None):
    """The pool's probes (see cyn_pool_probe in csrc/cyn_kernels.c): every
    `every`-th pass of a kind runs on the caller alone (the first, and the
    first after a stretch alone, after min(every, 16) passes), and when it took at
    most `percent` percent of the mean time of the kind's passes on the pool
    since the last probe, the caller goes on alone for a while. Sets them when both are
    given (tests); returns the setting before as (every, percent). Never
    while another thread trains."""
    cdef long was
    if every is None or percent is None:
        was = cyn_pool_probe(0, -1)
    else:
        if not (1 <= every <= 1_000_000_000 and 0 <= percent <= 1_000_000):
            raise ValueError(f"every must be in [1, 1e9] and percent in [0, 1e6], got "
                             f"{every!r}, {percent!r}")
        was = cyn_pool_probe(every, percent)
    return was // 1_000_000, was % 1_000_000


def pool_probed_alone():
    """Stretches alone that a probe began: a pass on the caller alone was
    about as fast as the same kind of pass on the pool."""
    return cyn_pool_probed_alone()


def pool_force_share(permille=None):
    """Cut every two-part pass on the pool with the caller's part `permille`
    thousandths of it (whole quanta, at least one each) instead of at the
    threads' measured speeds (for tests: the bits must not depend on the
    cut); 0 goes back to the measured cut, None only reads. Returns the
    setting before. Never while another thread trains."""
    if permille is None:
        was = cyn_pool_force_share(-1)
        cyn_pool_force_share(was)
        return was
    if isinstance(permille, bool) or not isinstance(permille, numbers.Integral):
        raise TypeError(f"permille must be an int, got {type(permille).__name__}")
    if not 0 <= permille < 1000:
        raise ValueError(f"permille must be in [0, 1000), got {permille!r}")
    return cyn_pool_force_share(permille)


def pool_run_alone(passes):
    """Run the next `passes` parallel passes on the caller alone, as after a
    late worker (for tests). Never while another thread trains."""
    cyn_pool_run_alone(passes)


cdef int half_width_kind(where) except -1:
    """CYN_HALF_EDGE or CYN_HALF_NARROW for the hooks' `where`."""
    if not isinstance(where, str):
        raise TypeError(f"where must be 'edge' or 'narrow', got {type(where).__name__}")
    if where == "edge":
        return CYN_HALF_EDGE
    if where == "narrow":
        return CYN_HALF_NARROW
    raise ValueError(f"where must be 'edge' or 'narrow', got {where!r}")


def half_width_cost(cost="read", where="edge"):
    """What a lane of AVX2's half-width vectors costs against one of
    AVX-512's on this CPU, measured once per process for each place the
    AVX-512 variant may hand them a part of a product (see cyn_half_cost in
    csrc/cyn_kernels.c): `where` "edge", a wider product's last, partial
    panel, or "narrow", a product narrower than one tile (an output layer of
    a few units). They take it when that is cheaper at this cost.
    `cost`: a positive number sets it (0.001: every time; 1000: never), None
    measures again; the default only reads.
    Returns the cost before (0.0 without AVX-512). For tests and benchmarks:
    the bits are the same either way."""
    cdef int which = half_width_kind(where)
    if isinstance(cost, str) and cost == "read":
        return cyn_half_width_cost(which, 0) / 1000.0
    if cost is None:
        return cyn_half_width_cost(which, -1) / 1000.0
    if not (0 < cost <= 1000):
        raise ValueError(f"cost must be in (0, 1000], got {cost!r}")
    return cyn_half_width_cost(which, max(1, int(round(cost * 1000)))) / 1000.0


def half_width_splits(where="edge"):
    """Products whose part `where` (see half_width_cost) the AVX-512 variant
    computed with half-width vectors, since import (for tests)."""
    return cyn_half_width_splits(half_width_kind(where))


def set_kernel_variant(name):
    """Force one kernel variant for every product size (None: automatic).

    For tests and benchmarks: every variant gives the same bits, so this
    changes only speed. Not to be called while another thread trains.
    """
    global cyn_inline_small
    cdef int v
    if name is None:
        cyn_set_variant(-1)
        cyn_inline_small = 1
        return
    names = list(kernel_variants())
    if name not in names:
        raise ValueError(f"unknown kernel variant {name!r}; known: {names}")
    v = names.index(name)
    if cyn_set_variant(v) != 0:
        raise RuntimeError(f"kernel variant {name!r} is not supported on this CPU")
    cyn_inline_small = 0


def set_watch_pieces(split=None, piece=None):
    """Split products of more than `split` multiply-adds into pieces of about
    `piece` for the Ctrl-C watch (None: the defaults, 2**29 and 2**27);
    returns the previous (split, piece).

    For tests: the pieces give the bits of one product, which small values
    check on small networks. Not to be called while another thread trains.
    """
    global WATCH_SPLIT, WATCH_PIECE
    old = (WATCH_SPLIT, WATCH_PIECE)
    new_split = (1 << 29) if split is None else int(split)
    new_piece = (1 << 27) if piece is None else int(piece)
    if new_split < 0 or new_piece < 1:
        raise ValueError(f"split must be >= 0 and piece >= 1, got {split!r}, {piece!r}")
    WATCH_SPLIT, WATCH_PIECE = new_split, new_piece
    return old

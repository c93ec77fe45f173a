"""Deploy a trained SRNN as a Brian2 network (runtime, C++ or CUDA standalone).

The discrete network of `neurosrnn.learning.srnn` is rebuilt with
`neurosrnn.models.srnn.srnn_network`: ALIF groups (`neurosrnn.models.alif.alif`)
with the learned per-neuron ``tau_m``, ``tau_adp`` (steps times ``dt``), biases and
weight matrices, and the leaky-integrator readout with the learned ``tau_o``. With
exact integration of held currents and pre-divided resets, Brian2 reproduces the
map to rounding error (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905, for the
map; the continuous-time form is derived in `neurosrnn.models.alif`), so spikes and
predictions match the float64 forward pass of the trained network.

Several samples run in one Brian2 network as independent copies (block-diagonal
weights): copy ``b`` of every layer holds sample ``b``. `simulate` splits large
batches into chunks and can run them on any device through
`neurosrnn.devices.Simulation` (one build per chunk).

A spiking readout is deployed as one more (non-recurrent) ALIF layer; its spikes
are the readout trace.
"""

from __future__ import annotations

import numpy as np

from .srnn import predictions_from_readout, validate_inputs

__all__ = ["DeployedSRNN", "to_brian2", "simulate", "simulate_saved", "build_project"]

#: Largest number of neurons per layer of one Brian2 build (dense block matrices).
MAX_NEURONS_PER_LAYER = 2048


class DeployedSRNN:
    """A trained SRNN as Brian2 objects, for a batch of input sequences.

    Attributes
    ----------
    trained : TrainedSRNN
    n_samples : int
        Number of sequences simulated side by side.
    network : neurosrnn.models.srnn.SRNNNetwork
        The Brian2 objects (``network.network`` is the `brian2.Network`).
    dt : brian2 quantity
        Duration of one step.
    """

    def __init__(self, trained, n_samples, network, dt, spiking_readout):
        self.trained = trained
        self.n_samples = n_samples
        self.network = network
        self.dt = dt
        self._spiking_readout = spiking_readout

    def __repr__(self):
        return (
            f"<DeployedSRNN {list(self.trained.config.hidden)} x {self.n_samples} samples, "
            f"{self.network.n_steps} steps of {self.dt}>"
        )

    @property
    def duration(self):
        """Simulated time covering every step of every layer (latency included)."""
        return self.network.duration

    def run(self, report=None):
        """Run the network (runtime device; standalone devices build it here)."""
        self.network.run(report=report)

    def _split(self, matrix):
        T = self.network.n_steps
        return np.asarray(matrix).reshape(T, self.n_samples, -1).transpose(1, 0, 2)

    def spikes(self):
        """Spikes of every hidden layer, list of ``(n_samples, T, n)`` 0/1 arrays."""
        n_hidden = self.trained.config.n_layers
        return [self._split(self.network.spike_matrix(layer)) for layer in range(n_hidden)]

    def readout(self):
        """Readout trace ``(n_samples, T, n_out)``: ``m_t`` or output spikes."""
        if self._spiking_readout:
            return self._split(self.network.spike_matrix(self.trained.config.n_layers))
        return self._split(self.network.readout_trace())

    def predict(self):
        """Class predictions ``(n_samples,)``, computed as the training code does."""
        return predictions_from_readout(self.readout(), self.trained.config)


def _block(matrix, copies):
    """Block-diagonal ``(copies * post, copies * pre)`` matrix from ``(post, pre)``."""
    return np.kron(np.eye(copies), matrix)


def to_brian2(trained, x, dt=None, *, name="srnn", record_membrane=False):
    """Build Brian2 objects reproducing `trained` on the input batch `x`.

    Objects are created on the active Brian2 device, so this works inside
    ``neurosrnn.devices.Simulation`` builds and after ``set_device``.

    Parameters
    ----------
    trained : TrainedSRNN
    x : array, shape (n_samples, T, n_in)
        Input sequences (the same arrays the training code takes).
    dt : brian2 quantity, optional
        Duration of one step (default 1 ms); time constants become ``tau * dt``.
    name : str
        Prefix of the Brian2 object names.
    record_membrane : bool
        Record membrane potentials (`SRNNNetwork.membrane`).

    Returns
    -------
    DeployedSRNN

    Raises
    ------
    ValueError
        Inputs of the wrong shape, or a batch too large for one build
        (``n_samples * layer size > MAX_NEURONS_PER_LAYER``; use `simulate`).
    """
    from brian2 import ms

    from neurosrnn.models.srnn import srnn_network

    config = trained.config
    validate_inputs(x, config)
    x = np.asarray(x, dtype=np.float64)
    dt = 1 * ms if dt is None else dt
    n_samples, T, _ = x.shape
    spiking = config.readout == "spiking"
    widest = max([*config.hidden, config.n_out if spiking else 0])
    if n_samples * widest > MAX_NEURONS_PER_LAYER:
        raise ValueError(
            f"x has {n_samples} samples of a layer of {widest} neurons: more than "
            f"MAX_NEURONS_PER_LAYER={MAX_NEURONS_PER_LAYER} neurons in one build; use simulate(), "
            "which splits the batch"
        )
    params = trained.params
    layers = params["layers"]
    readout = params["readout"]
    beta = config.effective_beta
    sizes = [n * n_samples for n in config.hidden]
    # input currents W_in x_t per sample, without the bias (held as I_ext)
    currents = np.einsum("btc,cn->tbn", x, layers[0]["w_in"]).reshape(T, -1)
    tau_m = [np.tile(la["tau_m"], n_samples) * dt for la in layers]
    tau_adp = [np.tile(la["tau_adp"], n_samples) * dt for la in layers]
    biases = [np.tile(la["bias"], n_samples) for la in layers]
    recurrent = [_block(la["w_rec"].T, n_samples) if "w_rec" in la else None for la in layers]
    feedforward = [_block(la["w_in"].T, n_samples) for la in layers[1:]]
    b0 = [config.b_j0] * len(sizes)
    betas = [beta] * len(sizes)
    if spiking:
        sizes.append(config.n_out * n_samples)
        tau_m.append(np.tile(readout["tau_m"], n_samples) * dt)
        tau_adp.append(np.tile(readout["tau_adp"], n_samples) * dt)
        biases.append(np.tile(readout["bias"], n_samples))
        recurrent.append(None)
        feedforward.append(_block(readout["w"].T, n_samples))
        b0.append(config.b_j0)
        betas.append(beta)
        # the leaky readout of srnn_network is unused: one unit, no synapses
        n_outputs, output_weights, tau_out = 1, np.zeros((1, sizes[-1])), 1 * dt
        output_bias = None
    else:
        n_outputs = config.n_out * n_samples
        output_weights = _block(readout["w"].T, n_samples)
        tau_out = np.tile(readout["tau"], n_samples) * dt
        output_bias = np.tile(readout["bias"], n_samples)
    network = srnn_network(
        sizes[0],
        sizes,
        n_outputs,
        input_currents=currents,
        dt=dt,
        tau_m=tau_m,
        tau_adp=tau_adp,
        tau_out=tau_out,
        recurrent_weights=recurrent,
        feedforward_weights=feedforward if len(sizes) > 1 else None,
        output_weights=output_weights,
        biases=biases,
        output_bias=output_bias,
        b0=b0,
        beta=betas,
        R_m=1.0,
        record_membrane=record_membrane,
        name=name,
    )
    _anchor_default_clock(network, dt, name)
    return DeployedSRNN(trained, n_samples, network, dt, spiking)


def _anchor_default_clock(network, dt, name):
    """brian2cuda 1.0b1 work-arounds (CUDA device only).

    Its synaptic propagation template reads ``defaultclock.timestep``, which is only
    declared when some object runs on ``defaultclock``; `srnn_network` puts every
    object on its own clock of step `dt`. A one-neuron group without equations on
    ``defaultclock`` (set to the same `dt`) makes the project compile. Its reset
    template also declares ``dt`` twice when loop-invariant optimisation moves part
    of the ALIF reset into scalar code, so that optimisation is switched off (the
    preference is restored by `neurosrnn.devices.reset_brian_state`).
    """
    from brian2 import NeuronGroup, defaultclock, get_device

    from neurosrnn.devices import set_preference

    if type(get_device()).__name__ != "CUDAStandaloneDevice":
        return
    set_preference("codegen.loop_invariant_optimisations", False)
    defaultclock.dt = dt
    network.network.add(NeuronGroup(1, "", name=f"{name}_defaultclock_anchor*"))


def simulate(
    trained, x, dt=None, *, device="runtime", directory=None, chunk_size=None, **device_options
):
    """Run `trained` on all of `x` in Brian2 and return spikes, readout and predictions.

    Parameters
    ----------
    trained : TrainedSRNN
    x : array, shape (n_samples, T, n_in)
    dt : brian2 quantity, optional
        Step duration (default 1 ms).
    device : {"runtime", "cpp_standalone", "cuda_standalone"}
        Brian2 device, through `neurosrnn.devices.Simulation` (Brian2's global
        device is reset before and after).
    directory : str, optional
        Standalone project folder (chunk ``k`` uses ``directory/chunk_<k>``).
    chunk_size : int, optional
        Samples per build (default: as many as `MAX_NEURONS_PER_LAYER` allows).
    **device_options
        Passed to `neurosrnn.devices.Simulation` (e.g. ``openmp_threads``).

    Returns
    -------
    dict
        ``"spikes"`` (list per hidden layer of ``(n_samples, T, n)``),
        ``"readout"`` ``(n_samples, T, n_out)``, ``"predictions"`` ``(n_samples,)``.
    """
    import os

    from brian2 import ms

    from neurosrnn.devices import Simulation

    config = trained.config
    validate_inputs(x, config)
    dt = 1 * ms if dt is None else dt
    widest = max([*config.hidden, config.n_out if config.readout == "spiking" else 0])
    largest = max(1, MAX_NEURONS_PER_LAYER // widest)
    if chunk_size is None:
        chunk_size = largest
    if not isinstance(chunk_size, int | np.integer) or not 1 <= chunk_size <= largest:
        raise ValueError(f"chunk_size must be an integer in [1, {largest}], got {chunk_size!r}")
    n, T, _ = np.shape(x)
    spikes = [np.zeros((n, T, h)) for h in config.hidden]
    readout = np.zeros((n, T, config.n_out))
    for k, start in enumerate(range(0, n, chunk_size)):
        xb = np.asarray(x[start : start + chunk_size])
        holder = {}

        def build(xb=xb, holder=holder):
            holder["deployed"] = to_brian2(trained, xb, dt)
            return holder["deployed"].network

        folder = None if directory is None else os.path.join(directory, f"chunk_{k:03d}")
        sim = Simulation(
            build,
            (T + _latency(config)) * dt,
            device=device,
            directory=folder,
            dt=dt,
            **device_options,
        )
        try:
            sim.build()
            sim.run(save=False)
            deployed = holder["deployed"]
            for layer, values in enumerate(deployed.spikes()):
                spikes[layer][start : start + len(xb)] = values
            readout[start : start + len(xb)] = deployed.readout()
        finally:
            sim.close()
    return {
        "spikes": spikes,
        "readout": readout,
        "predictions": predictions_from_readout(readout, config),
    }


def _latency(config):
    """Brian2 steps of latency of the last deployed group."""
    return config.n_layers + (1 if config.readout == "spiking" else 0)


def simulate_saved(
    network, inputs, out, *, dt=None, device="runtime", directory=None, **device_options
):
    """Run a saved trained network on saved inputs and write the results (CLI hook).

    Parameters
    ----------
    network : str
        Stem (or ``.npz`` / ``.json`` path) written by `TrainedSRNN.save`.
    inputs : str
        ``.npy`` file of shape ``(n_samples, T, n_in)``, or ``.npz`` with an array ``x``
        (and optionally ``y``, labels, to report the accuracy).
    out : str
        Results folder: ``predictions.npy``, ``spikes.npz`` (``layer_<l>``: 0/1
        arrays ``(n_samples, T, n)``), ``readout.npy`` and ``summary.json``, each
        written atomically.
    dt, device, directory, **device_options
        As in `simulate`.

    Returns
    -------
    dict
        The summary (``n_samples``, ``spike_counts`` per layer, ``accuracy`` if
        labels were given, ``device``).
    """
    import json
    import os

    from neurosrnn.atomic import atomic_write

    from .train import TrainedSRNN

    trained = TrainedSRNN.load(network)
    if not os.path.exists(inputs):
        raise ValueError(f"inputs file {inputs!r} does not exist")
    labels = None
    if inputs.endswith(".npz"):
        with np.load(inputs) as archive:
            if "x" not in archive.files:
                raise ValueError(f"{inputs!r} must hold an array named 'x'")
            x = np.array(archive["x"])
            labels = np.array(archive["y"]) if "y" in archive.files else None
    else:
        x = np.load(inputs)
    result = simulate(trained, x, dt, device=device, directory=directory, **device_options)
    os.makedirs(out, exist_ok=True)
    summary = {
        "network": os.fspath(network),
        "device": getattr(device, "name", device),
        "n_samples": int(len(x)),
        "spike_counts": [int(s.sum()) for s in result["spikes"]],
    }
    if labels is not None:
        summary["accuracy"] = float(np.mean(result["predictions"] == labels))
    with atomic_write(os.path.join(out, "predictions.npy")) as stream:
        np.save(stream, result["predictions"])
    with atomic_write(os.path.join(out, "readout.npy")) as stream:
        np.save(stream, result["readout"])
    spikes = {f"layer_{k}": s.astype(np.uint8) for k, s in enumerate(result["spikes"])}
    with atomic_write(os.path.join(out, "spikes.npz")) as stream:
        np.savez_compressed(stream, **spikes)
    with atomic_write(os.path.join(out, "summary.json"), "w") as stream:
        json.dump(summary, stream, indent=1)
    return summary


def build_project(
    trained, x, directory, *, dt=None, device="cpp_standalone", compile=True, **device_options
):
    """Write (and compile) a standalone C++ or CUDA project of `trained` on inputs `x`.

    The project in `directory` is self-contained: run its ``./main`` (after
    ``make`` when copied elsewhere), then read the spikes of layer ``l`` of sample
    ``b`` from the monitor files, or run it through the returned simulation.

    Parameters
    ----------
    trained : TrainedSRNN
    x : array, shape (n_samples, T, n_in)
        Inputs baked into the project (at most one chunk, see `to_brian2`).
    directory : str
        Project folder.
    dt : brian2 quantity, optional
        Step duration (default 1 ms).
    device : {"cpp_standalone", "cuda_standalone"}
    compile : bool
        Compile the project (False: generate the sources only).
    **device_options
        Passed to `neurosrnn.devices.Simulation` (``openmp_threads``,
        ``compute_capability``, ...).

    Returns
    -------
    (neurosrnn.devices.Simulation, dict)
        The built simulation (call ``.run()`` where the device can run, then
        ``holder["deployed"].spikes()``), and the holder dict with the
        `DeployedSRNN` under ``"deployed"``. Call ``simulation.close()`` when done.
    """
    from brian2 import ms

    from neurosrnn.devices import Simulation

    if getattr(device, "name", device) not in ("cpp_standalone", "cuda_standalone"):
        raise ValueError(f"device must be 'cpp_standalone' or 'cuda_standalone', got {device!r}")
    validate_inputs(x, trained.config)
    dt = 1 * ms if dt is None else dt
    holder = {}

    def build():
        holder["deployed"] = to_brian2(trained, x, dt)
        return holder["deployed"].network

    T = np.shape(x)[1]
    simulation = Simulation(
        build,
        (T + _latency(trained.config)) * dt,
        device=device,
        directory=directory,
        dt=dt,
        **device_options,
    )
    simulation.build(compile=compile)
    return simulation, holder

"""Training adaptive spiking recurrent networks (optional extra ``neurosrnn[train]``).

Surrogate-gradient BPTT of ALIF networks with learnable per-neuron time constants
in JAX (Yin, Corradi & Bohte 2021, Nat. Mach. Intell. 3:905), bundled or synthetic
data sets, an operation-count energy estimate, and export of trained networks to
Brian2. Importing this package imports JAX lazily only where needed; importing
`neurosrnn` never imports it.

Submodules: `surrogate`, `srnn`, `train`, `data`, `energy`, `deploy`.
"""

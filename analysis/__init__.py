"""neurosrnn.analysis: measurement on spike data and dynamical systems.

Works on plain arrays (spike indices and times in seconds or Brian2 quantities) and on
Brian2 monitors; never needs a simulator. One module per family of measures, one
function per measure (every name below is also importable from this package):

- `statistics`: firing rates, ISIs, CV, CV2, LV, LvR, Fano factors, binned counts,
  time histogram, PSTH, Gaussian kernel rates and the optimal kernel bandwidth;
- `bursts`: bursts by the ISI-threshold rule;
- `correlation`: spike-count correlation, cross-correlograms, the shift predictor and
  the spike time tiling coefficient (STTC);
- `dissimilarity`: van Rossum and Victor-Purpura distances;
- `synchrony`: the Golomb-Rinzel synchrony measure chi of traces and spike trains;
- `summary`: `firing_summary`, all of the above in one call (numbers; a figure only
  with ``figure=True``);
- `timescales`: intrinsic (activity) timescales: autocorrelation fits, the bias-corrected
  direct fit, the multistep-regression estimator, Murray et al. (2014), fixtures;
- `heterogeneity`: summaries, fits and comparisons of per-neuron parameter distributions;
- `exponents`: the chaos API's foundation: `LyapunovResult`, `TwoTrajectoryResult`, the
  one QR (Benettin) accumulator `QRAccumulator`, `qr_lyapunov` and the derived
  quantities (Kaplan-Yorke dimension, KS entropy, entropy per spike);
- `lyapunov`: spectra of maps, flows and rate networks, `two_trajectory_exponent` for
  rate networks, with `exponents` re-exported (one namespace for chaos);
- `lyapunov_plots`: spectrum, convergence and divergence plots;
- `plotting`: raster, population rate, histograms, summary figures (imports the
  measures; no measure imports it at module level);
- `neo_interop`: conversion to and from neo SpikeTrains (needs the ``neo`` extra).

`neurosrnn.analysis.firing` is a deprecated alias of statistics, bursts, correlation,
dissimilarity, synchrony and summary together.
"""

from ._spikes import SpikeTrains, as_spike_trains
from .bursts import Bursts, detect_bursts
from .correlation import (
    cross_correlograms,
    shift_predictor,
    spike_count_correlation,
    spike_time_tiling_coefficient,
    sttc_matrix,
)
from .dissimilarity import van_rossum_distances, victor_purpura_distances
from .heterogeneity import (
    DistributionFit,
    ParameterSummary,
    compare_parameters,
    fit_distributions,
    summarize_parameter,
    wasserstein_distance,
)
from .lyapunov import (
    LyapunovResult,
    QRAccumulator,
    TwoTrajectoryResult,
    entropy_per_spike,
    flow_spectrum,
    gaussian_product_exponents,
    kaplan_yorke_dimension,
    ks_entropy,
    map_spectrum,
    participation_ratio,
    plot_convergence,
    plot_divergence,
    plot_spectrum,
    qr_lyapunov,
    random_coupling_matrix,
    rate_network_largest_exponent,
    rate_network_spectrum,
    segment_exponents,
    two_trajectory_exponent,
)
from .neo_interop import from_neo, to_neo
from .plotting import (
    parameter_comparison_figure,
    population_rate_plot,
    raster,
    statistic_histogram,
    summary_figure,
    timescale_scatter,
)
from .statistics import (
    bin_spike_counts,
    cv,
    cv2,
    fano_factor,
    fano_factor_across_trials,
    firing_rates,
    interspike_intervals,
    kernel_rate,
    lv,
    lvr,
    optimal_kernel_bandwidth,
    psth,
    time_histogram,
)
from .summary import FiringSummary, firing_summary
from .synchrony import golomb_chi, spike_synchrony_chi
from .timescales import (
    MRResult,
    MurrayResult,
    ar1_process,
    autocorrelation,
    binomial_subsample,
    branching_process,
    corrected_timescale,
    direct_timescale,
    fit_exponential,
    mr_estimator,
    murray_timescale,
    neuron_timescales,
    ou_modulated_poisson,
    ou_process,
    psd_knee_timescale,
    spike_count_timescales,
    timescale_relation,
    wieland_timescale,
)

__all__ = [
    "Bursts",
    "DistributionFit",
    "FiringSummary",
    "LyapunovResult",
    "QRAccumulator",
    "TwoTrajectoryResult",
    "MRResult",
    "MurrayResult",
    "ParameterSummary",
    "SpikeTrains",
    "ar1_process",
    "as_spike_trains",
    "autocorrelation",
    "bin_spike_counts",
    "binomial_subsample",
    "branching_process",
    "compare_parameters",
    "corrected_timescale",
    "cross_correlograms",
    "cv",
    "cv2",
    "detect_bursts",
    "direct_timescale",
    "entropy_per_spike",
    "fano_factor",
    "fano_factor_across_trials",
    "firing_rates",
    "firing_summary",
    "fit_distributions",
    "fit_exponential",
    "flow_spectrum",
    "from_neo",
    "gaussian_product_exponents",
    "golomb_chi",
    "interspike_intervals",
    "kaplan_yorke_dimension",
    "kernel_rate",
    "ks_entropy",
    "lv",
    "lvr",
    "map_spectrum",
    "mr_estimator",
    "murray_timescale",
    "neuron_timescales",
    "optimal_kernel_bandwidth",
    "ou_modulated_poisson",
    "ou_process",
    "parameter_comparison_figure",
    "participation_ratio",
    "plot_convergence",
    "plot_divergence",
    "plot_spectrum",
    "population_rate_plot",
    "psd_knee_timescale",
    "psth",
    "qr_lyapunov",
    "segment_exponents",
    "two_trajectory_exponent",
    "random_coupling_matrix",
    "raster",
    "rate_network_largest_exponent",
    "rate_network_spectrum",
    "shift_predictor",
    "spike_count_correlation",
    "spike_count_timescales",
    "spike_synchrony_chi",
    "spike_time_tiling_coefficient",
    "statistic_histogram",
    "sttc_matrix",
    "summarize_parameter",
    "summary_figure",
    "time_histogram",
    "timescale_relation",
    "timescale_scatter",
    "to_neo",
    "van_rossum_distances",
    "victor_purpura_distances",
    "wasserstein_distance",
    "wieland_timescale",
]

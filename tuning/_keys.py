"""Names the oracle, the tuner and the reports share: private value keys and metrics."""

#: Keys the oracle adds to each trial's values. Workers see the oracle only
#: through gRPC, so the round and epoch count travel with the trial (as
#: Hyperband's `tuner/epochs` does).
ROUND_KEY = "coarse_to_fine/round"
EPOCHS_KEY = "coarse_to_fine/epochs"
PRIVATE_KEYS = (ROUND_KEY, EPOCHS_KEY)

#: Metrics the tuner reports besides the objective.
EPOCH_METRIC = "coarse_to_fine/epoch_objective"
INFEASIBLE_METRIC = "coarse_to_fine/infeasible"
BEST_EPOCH_METRIC = "coarse_to_fine/best_epoch"
EPOCHS_TRAINED_METRIC = "coarse_to_fine/epochs_trained"
SECONDS_METRIC = "coarse_to_fine/seconds"

#: Score given to a diverged trial: finite, so keras-tuner does not count it as
#: a failure (3 consecutive failures abort a search), and worse than any real score.
INFEASIBLE_PENALTY = 1e30

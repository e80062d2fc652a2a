"""How much CPU time the hypervisor took from this virtual machine while we measured.

On a shared cloud host the "steal" column of ``/proc/stat`` counts the time this VM's
virtual CPUs were ready to run but the host ran someone else. On the 2-core development
machine it was 25-30% of all CPU time during one hour's benchmark runs and 0% an hour
later: a run's steal tells its reader whether the machine was shared while it ran (one
cause of noise among others). Linux only; elsewhere it is unknown.
"""


def read(path="/proc/stat"):
    """(steal, total) jiffies summed over all CPUs since boot, or None if unknown."""
    try:
        with open(path) as f:
            fields = f.readline().split()
    except OSError:
        return None
    # "cpu user nice system idle iowait irq softirq steal [guest guest_nice]"; guest
    # time is already inside user and nice, so it is not added again.
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    try:
        counts = [int(v) for v in fields[1:9]]
    except ValueError:
        return None
    return counts[7], sum(counts)


def fraction(before, after):
    """The share of CPU time stolen between two ``read()`` snapshots, or None."""
    if before is None or after is None:
        return None
    total = after[1] - before[1]
    if total <= 0:
        return None
    return (after[0] - before[0]) / total


def describe(frac):
    """A phrase for reports: "12% of CPU time", or "unknown"."""
    return "unknown" if frac is None else f"{100 * frac:.0f}% of CPU time"

namespace IngestLite.Bench;

/// <summary>One distribution: min, p50, p99, max of the samples.</summary>
public sealed record Row(string Scenario, int Samples, double Min, double P50, double P99, double Max, string Note)
{
    public static Row From(string scenario, List<double> samples, string note)
    {
        samples.Sort();
        double At(double q) => samples.Count == 0 ? double.NaN : samples[Math.Clamp((int)Math.Ceiling(q * samples.Count) - 1, 0, samples.Count - 1)];
        return new Row(scenario, samples.Count, At(0), At(0.5), At(0.99), At(1), note);
    }
}

/// <summary>One measured number with its unit.</summary>
public sealed record Figure(string Scenario, string Measure, double Value, string Unit);

/// <summary>Small statistics for paired comparisons.</summary>
public static class Paired
{
    /// <summary>
    /// The median of <paramref name="values"/> and a distribution-free confidence interval for it (order
    /// statistics, by the binomial distribution; no assumption about the noise's shape): the widest pair of
    /// order statistics whose coverage is still at least 95%, or the whole range when there are too few values.
    /// </summary>
    public static (double Median, double Low, double High, double Coverage) MedianWithInterval(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        var median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;

        // Coverage of [x(k), x(n+1-k)] is 1 - 2 P(Bin(n, 1/2) <= k - 1).
        double Tail(int k) => Enumerable.Range(0, k).Sum(i => Choose(n, i)) / Math.Pow(2, n);
        var best = 1;
        for (var k = 2; k <= n / 2 && 1 - (2 * Tail(k)) >= 0.95; k++)
        {
            best = k;
        }

        return (median, sorted[best - 1], sorted[n - best], 1 - (2 * Tail(best)));
    }

    private static double Choose(int n, int k)
    {
        var result = 1.0;
        for (var i = 1; i <= k; i++)
        {
            result = result * (n - k + i) / i;
        }

        return result;
    }
}

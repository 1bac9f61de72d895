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

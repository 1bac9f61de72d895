namespace IngestLite.Bench;

/// <summary>One line of the results table; times in milliseconds.</summary>
public sealed record Row(string Scenario, int Samples, double Min, double P50, double P99, double Max, string Note)
{
    public static Row From(string scenario, List<double> samples, string note)
    {
        samples.Sort();
        double At(double q) => samples.Count == 0 ? double.NaN : samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        return new Row(scenario, samples.Count, At(0.0001), At(0.5), At(0.99), At(1), note);
    }
}

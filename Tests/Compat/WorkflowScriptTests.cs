using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Compat;

/// <summary>
/// Upstream's HTTP workflow script (tests/test_ingestion_v2.py), run unchanged as a child process against the
/// compat host: directory listing, process, status polling, report, cleanup. Its one import of upstream's app
/// (<c>app.services.nsfw_detection</c>) is satisfied by a stub package first on PYTHONPATH. The run is small
/// and free; the script polls every 2 s on its own.
/// </summary>
public sealed class WorkflowScriptTests
{
    public const string PythonVariable = "INGESTLITE_PYTHON";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static string Python => Environment.GetEnvironmentVariable(PythonVariable) is { Length: > 0 } configured ? configured : "python3";

    [Test]
    public async Task Upstream_workflow_script_passes_all_five_steps()
    {
        var script = Upstream.File("test_ingestion_v2.py");
        await RequireRequestsAsync();
        var folder = Path.Combine(CompatSuite.App.MediaRoot, CompatSuite.NewFolder(3));
        using var stub = new TempDirectory("ingestlite-compat-stub-");
        WriteNsfwStub(stub.FullPath);

        var url = CompatSuite.App.BaseAddress.GetLeftPart(UriPartial.Authority);
        var (exit, output) = await RunAsync([script, "--url", url, "--directory", folder], stub.FullPath);
        TestContext.Out.WriteLine(output);
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("NSFW Detection Available: ✅ Yes"), "the script imported the stub of app.services.nsfw_detection");
            Assert.That(output, Does.Contain("Total: 5/5"), "every step of the script passed (its output is above)");
            Assert.That(exit, Is.Zero, "the script's exit code");
        });
    }

    /// <summary>The script needs the <c>requests</c> package; without it the test fails saying how to get it (scripts/test.sh installs it as root).</summary>
    private static async Task RequireRequestsAsync()
    {
        var (exit, output) = await RunAsync(["-c", "import requests"], pythonPath: null);
        Assert.That(exit, Is.Zero,
            $"'{Python} -c \"import requests\"' failed: upstream's workflow script needs Python 3 with requests. " +
            $"Install them (Debian: 'sudo apt-get install python3 python3-requests'; bash scripts/test.sh does it as root) or set {PythonVariable}.{Environment.NewLine}{output}");
    }

    /// <summary>The package <c>app.services.nsfw_detection</c> with the one function the script imports, reporting detection available.</summary>
    private static void WriteNsfwStub(string root)
    {
        var services = Directory.CreateDirectory(Path.Combine(root, "app", "services")).FullName;
        File.WriteAllText(Path.Combine(root, "app", "__init__.py"), "");
        File.WriteAllText(Path.Combine(services, "__init__.py"), "");
        File.WriteAllText(Path.Combine(services, "nsfw_detection.py"),
            "\"\"\"Stub for upstream's test_ingestion_v2.py (IngestLite compat tests).\"\"\"\n\n\ndef is_nsfw_detection_available():\n    return True\n");
    }

    /// <summary>Runs the configured Python with <paramref name="arguments"/>; output and errors interleaved as they come, UTF-8 (the script prints emoji).</summary>
    private static async Task<(int Exit, string Output)> RunAsync(IEnumerable<string> arguments, string? pythonPath)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PYTHONIOENCODING"] = "utf-8";
        start.Environment["PYTHONUNBUFFERED"] = "1";
        start.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        start.Environment["no_proxy"] = "127.0.0.1,localhost";
        if (pythonPath is not null)
        {
            var inherited = Environment.GetEnvironmentVariable("PYTHONPATH");
            start.Environment["PYTHONPATH"] = string.IsNullOrEmpty(inherited) ? pythonPath : pythonPath + Path.PathSeparator + inherited;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"Python could not be started as '{Python}': {ex.Message}. Upstream's workflow script needs Python 3 with requests: " +
                        $"install them (Debian: 'sudo apt-get install python3 python3-requests'; bash scripts/test.sh does it as root) or set {PythonVariable}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{Python} {string.Join(' ', start.ArgumentList)}' did not end within {Timeout.TotalSeconds} s:{Environment.NewLine}{Text(output)}");
        }

        // WaitForExitAsync returns once the output streams are drained too.
        return (process.ExitCode, Text(output));
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

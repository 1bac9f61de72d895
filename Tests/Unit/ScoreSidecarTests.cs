using System.Diagnostics;
using System.Text.Json;
using IngestLite.Jobs.Stages;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Unit;

public sealed class ScoreSidecarTests
{
    private TempDirectory _temp = null!;
    private string _media = null!;

    [SetUp]
    public void SetUp()
    {
        _temp = new TempDirectory();
        _media = _temp.Combine("photos", "a.png");
        MediaFactory.WritePng(_media, 8, 8);
    }

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static double? Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ScoreSidecar.Parse(document.RootElement);
    }

    private Task<double?> ReadAsync() => ScoreSidecar.ReadAsync(_media, CancellationToken.None);

    [TestCase("""{"score": 4.5}""", 4.5)]
    [TestCase("""{"score": 0}""", 0.0)]
    [TestCase("""{"score": 3, "other": "ignored"}""", 3.0)]
    [TestCase("""{"score": -1}""", -1.0)]
    [TestCase("""{"score": 5}""", 5.0)]
    [TestCase("""{"score": 5.0}""", 5.0)]
    [TestCase("""{"score": -1.0}""", -1.0)]
    public void Reads_scores_in_range(string json, double expected)
    {
        Assert.That(Parse(json), Is.EqualTo(expected));
    }

    [TestCase("""{"score": 99}""")]
    [TestCase("""{"score": 5.0001}""")]
    [TestCase("""{"score": -1.0001}""")]
    [TestCase("""{"score": -100}""")]
    [TestCase("""{"score": 1e308}""")]
    [TestCase("""{"score": "NaN"}""")]
    [TestCase("""{"score": "Infinity"}""")]
    public void Out_of_range_reads_as_zero(string json)
    {
        Assert.That(Parse(json), Is.EqualTo(0));
    }

    [TestCase("""{"score": "3.5"}""", 3.5)]
    [TestCase("""{"score": " 2 "}""", 2.0)]
    [TestCase("""{"score": "1e0"}""", 1.0)]
    [TestCase("""{"score": "42"}""", 0.0)]
    public void A_string_number_is_accepted(string json, double expected)
    {
        Assert.That(Parse(json), Is.EqualTo(expected));
    }

    [TestCase("""{"score": "high"}""")]
    [TestCase("""{"score": "3,5"}""")]
    [TestCase("""{"score": null}""")]
    [TestCase("""{"score": true}""")]
    [TestCase("""{"score": [4]}""")]
    [TestCase("""{"rating": 4}""")]
    [TestCase("""{}""")]
    [TestCase("""[{"score": 4}]""")]
    [TestCase("4")]
    public void Anything_else_is_null(string json)
    {
        Assert.That(Parse(json), Is.Null);
    }

    [Test]
    public void PathFor_is_the_hidden_scores_folder_next_to_the_file()
    {
        Assert.That(ScoreSidecar.PathFor(_media), Is.EqualTo(_temp.Combine("photos", ".scores", "a.png.json")));
    }

    [Test]
    public void MediaFactory_writes_where_the_reader_looks()
    {
        Assert.That(MediaFactory.WriteScoreSidecar(_media, "{}"), Is.EqualTo(ScoreSidecar.PathFor(_media)));
    }

    [Test]
    public async Task ReadAsync_reads_a_valid_sidecar()
    {
        MediaFactory.WriteScoreSidecar(_media, """{"score": 4.5}""");

        Assert.That(await ReadAsync(), Is.EqualTo(4.5));
    }

    [Test]
    public async Task ReadAsync_out_of_range_reads_as_zero()
    {
        MediaFactory.WriteScoreSidecar(_media, """{"score": 99}""");

        Assert.That(await ReadAsync(), Is.EqualTo(0));
    }

    [Test]
    public async Task ReadAsync_missing_sidecar_is_null()
    {
        Assert.That(await ReadAsync(), Is.Null);
    }

    [TestCase("{not json")]
    [TestCase("")]
    [TestCase("""{"score": 4,}""")]
    [TestCase("""{"score": 4} trailing""")]
    public async Task ReadAsync_invalid_json_is_null(string json)
    {
        MediaFactory.WriteScoreSidecar(_media, json);

        Assert.That(await ReadAsync(), Is.Null);
    }

    [Test]
    public async Task ReadAsync_oversized_sidecar_is_null()
    {
        MediaFactory.WriteScoreSidecar(_media, "{\"score\": 4, \"pad\": \"" + new string('x', 70 * 1024) + "\"}");

        Assert.That(await ReadAsync(), Is.Null);
    }

    [Test]
    public async Task ReadAsync_sidecar_that_is_a_folder_is_null()
    {
        Directory.CreateDirectory(ScoreSidecar.PathFor(_media));

        Assert.That(await ReadAsync(), Is.Null);
    }

    [Test]
    public async Task ReadAsync_does_not_block_on_a_fifo_sidecar()
    {
        // FileProcessor refuses a FIFO as media; as a sidecar, opening it would block the worker in open(2).
        var sidecar = ScoreSidecar.PathFor(_media);
        Directory.CreateDirectory(Path.GetDirectoryName(sidecar)!);
        MakeFifo(sidecar);

        var read = Task.Run(() => ScoreSidecar.ReadAsync(_media, CancellationToken.None));
        try
        {
            Assert.That(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(3))), Is.SameAs(read), "ReadAsync blocked on a FIFO sidecar");
            Assert.That(await read, Is.Null);
        }
        finally
        {
            // A read-write open of a FIFO never blocks and frees a reader stuck in open(2); closing it gives that reader EOF.
            using (new FileStream(sidecar, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            {
            }

            await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(3)));
        }
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.That(mkfifo.ExitCode, Is.Zero, "mkfifo failed");
    }

    [Test]
    public async Task ReadAsync_honours_cancellation()
    {
        MediaFactory.WriteScoreSidecar(_media, """{"score": 4.5}""");

        await Assert.ThatAsync(() => ScoreSidecar.ReadAsync(_media, new CancellationToken(canceled: true)), Throws.InstanceOf<OperationCanceledException>());
    }
}

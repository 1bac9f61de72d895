using System.Net;
using IngestLite.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Integration;

/// <summary>Security by default: local-only dashboard, loopback binding, headers that keep hostile text inert.</summary>
public sealed class SecurityTests
{
    private static AppHost App => TestSuite.App;

    [TestCase("203.0.113.9")]
    [TestCase("10.1.2.3")]
    [TestCase("::ffff:192.0.2.1")]
    public async Task The_dashboard_refuses_remote_requests(string remote)
    {
        using var http = App.CreateRealClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "hangfire");
        request.Headers.Add(AppHost.RemoteAddressHeader, remote);
        using var response = await http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized).Or.EqualTo(HttpStatusCode.Forbidden));

        using var local = await http.GetAsync("hangfire");
        Assert.That(local.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the same request from loopback is allowed");
    }

    [Test]
    public void The_app_binds_to_loopback_by_default()
    {
        var urls = App.Services.GetRequiredService<IConfiguration>()["Urls"];
        Assert.That(urls, Does.StartWith("http://127.0.0.1:"), "appsettings.json must not expose the app beyond this machine");
    }

    [TestCase("/api/ingest/sessions")]
    [TestCase("/api/ingest/metrics")]
    public async Task Api_responses_carry_nosniff(string path)
    {
        using var http = App.CreateRealClient();
        using var response = await http.GetAsync(path.TrimStart('/'));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
    }

    [TestCase("/")]
    [TestCase("/catalog")]
    public async Task Pages_carry_a_strict_content_security_policy_and_nosniff(string path)
    {
        using var http = App.CreateRealClient();
        using var response = await http.GetAsync(path.TrimStart('/'));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.That(csp, Does.Contain("script-src 'self'").And.Not.Contains("unsafe-inline"));
        Assert.That(csp, Does.Contain("object-src 'none'"));
    }
}

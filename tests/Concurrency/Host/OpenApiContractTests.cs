using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Persistence;
using Monolith.Tests.Concurrency.Fixtures;

namespace Monolith.Tests.Concurrency.Host;

/// <summary>
/// The OpenAPI document says what the API answers: it declares at least what it declared before its metadata became
/// conventions, and every status a route is seen to answer, to good and to bad requests, is one it declares.
/// </summary>
public sealed class OpenApiContractTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    /// <summary>A request each route accepts as well-formed (by its operation id); ids in the path are unknown.</summary>
    static readonly Dictionary<string, object> ValidBodies = new()
    {
        ["OpenAccount"] = new { currency = "EUR" },
        ["Deposit"] = new { amount = 1m },
        ["Withdraw"] = new { amount = 1m },
        ["Transfer"] = new { fromAccountId = Guid.CreateVersion7(), toAccountId = Guid.CreateVersion7(), amount = 1m },
        ["RegisterToken"] = new { quoteCurrency = "USD" },
        ["OpenPortfolio"] = new { },
        ["RecordTransaction"] = new { symbol = "ZZZ", side = "buy", quantity = 1m, unitPrice = 1m, localUnitPrice = 1m, executedAt = "2026-01-05T12:00:00Z" },
        ["OpenTradingAccount"] = new { initialBalance = 1_000m, maxDrawdownLimitPct = 10m },
        ["PlaceOrder"] = new { symbol = "ABC", side = "buy", shares = 1m, limitPrice = 1m, strategyName = "probe", reason = "probe" },
        ["FillOrder"] = new { price = 1m },
        ["CloseTrade"] = new { exitPrice = 1m },
        ["RecordDecision"] = new { symbol = "ABC", action = "hold", reason = "probe", strategyName = "probe" },
        ["StartLabRun"] = new { workload = "ledger-transfers", hotSet = 2, workers = 1, durationSeconds = 1, strategies = new[] { "PessimisticRowLock" } },
    };

    [Fact]
    public async Task The_document_declares_at_least_what_it_declared_before()
    {
        await using var factory = Host();
        var operations = Operations(await DocumentAsync(factory));
        var missing = new List<string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Host", "openapi-before.txt")).Where(l => !l.StartsWith('#')))
        {
            var (method, path, statuses, parameters) = line.Split(' ') is [var m, var p, var s, var ps] ? (m, p, s.Split(','), ps == "-" ? [] : ps.Split(',')) : throw new FormatException(line);
            if (!operations.TryGetValue((method, path), out var now)) { missing.Add($"{method} {path}: gone"); continue; }
            missing.AddRange(statuses.Except(now.Statuses).Select(s => $"{method} {path}: no longer declares {s}"));
            missing.AddRange(parameters.Except(now.Parameters.Select(p => p.Name)).Select(p => $"{method} {path}: no longer takes {p}"));
        }
        Assert.Empty(missing);
    }

    [Fact]
    public async Task Every_status_a_route_answers_is_one_it_declares()
    {
        await using var factory = Host();
        var undeclared = await ProbeAsync(factory, _ => true);
        Assert.Empty(undeclared);
    }

    [Fact]
    public async Task Every_status_a_route_answers_with_its_lock_service_down_is_one_it_declares()
    {
        // Nothing listens on port 1: every Trading write fails closed with 503.
        await using var factory = Host(("Concurrency:Modules:Trading", nameof(StrategyName.RedisLock)), ("ConnectionStrings:Redis", "127.0.0.1:1,connectTimeout=200"));
        var undeclared = await ProbeAsync(factory, path => path.StartsWith("/api/trading/", StringComparison.Ordinal));
        Assert.Empty(undeclared);
    }

    /// <summary>Sends each route a well-formed request, an empty and a malformed body, and each parameter out of range; lists every answer it does not declare.</summary>
    static async Task<List<string>> ProbeAsync(WebApplicationFactory<Program> factory, Func<string, bool> routes)
    {
        var client = factory.CreateClient().As(Tester);
        var undeclared = new List<string>();
        foreach (var ((method, path), operation) in Operations(await DocumentAsync(factory)).Where(o => routes(o.Key.Path)))
        {
            var url = path.Replace("{id}", Guid.CreateVersion7().ToString()).Replace("{symbol}", "ZZZ");
            var probes = new List<(string Probe, HttpRequestMessage Request)>();
            HttpRequestMessage Request(string? body, string? query = null, (string Name, string Value)? header = null, string? at = null)
            {
                var request = new HttpRequestMessage(new HttpMethod(method), (at ?? url) + query);
                if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                if (header is { } h) request.Headers.TryAddWithoutValidation(h.Name, h.Value);
                else if (operation.Parameters.Any(p => p.Name == IIdempotentCommand.Header))
                    request.Headers.TryAddWithoutValidation(IIdempotentCommand.Header, Guid.NewGuid().ToString());
                return request;
            }
            var valid = ValidBodies.TryGetValue(operation.Id, out var example) ? JsonSerializer.Serialize(example) : operation.HasBody ? "{}" : null;
            probes.Add(("well-formed", Request(valid)));
            if (path.Contains("{id}")) probes.Add(("malformed id", Request(valid, at: path.Replace("{id}", "not-a-uuid").Replace("{symbol}", "ZZZ"))));
            if (operation.HasBody)
            {
                probes.Add(("empty body", Request("{}")));
                probes.Add(("malformed body", Request("{")));
            }
            foreach (var parameter in operation.Parameters)
            {
                if (parameter.In == "query") probes.Add(($"{parameter.Name}=x", Request(valid, $"?{parameter.Name}=x")));
                if (parameter.In == "header") probes.Add(($"{parameter.Name} too long", Request(valid, header: (parameter.Name, new string('a', 101)))));
            }
            foreach (var (probe, request) in probes)
            {
                var status = ((int)(await client.SendAsync(request)).StatusCode).ToString();
                if (!operation.Statuses.Contains(status))
                    undeclared.Add($"{method} {path} ({operation.Id}), {probe}: answered {status}, declares {string.Join(", ", operation.Statuses.Order())}");
            }
        }
        return undeclared;
    }

    WebApplicationFactory<Program> Host(params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:Monolith", database.ConnectionString);
            foreach (var (key, value) in settings) host.UseSetting(key, value);
        });

    static async Task<JsonElement> DocumentAsync(WebApplicationFactory<Program> factory) =>
        JsonDocument.Parse(await factory.CreateClient().As(Tester).GetStringAsync("/openapi/v1.json")).RootElement;

    sealed record Parameter(string Name, string In);

    sealed record Operation(string Id, HashSet<string> Statuses, List<Parameter> Parameters, bool HasBody);

    static Dictionary<(string Method, string Path), Operation> Operations(JsonElement document)
    {
        var operations = new Dictionary<(string, string), Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject())
            {
                var parameters = operation.Value.TryGetProperty("parameters", out var list)
                    ? list.EnumerateArray().Select(p => new Parameter(p.GetProperty("name").GetString()!, p.GetProperty("in").GetString()!)).ToList()
                    : [];
                operations[(operation.Name.ToUpperInvariant(), path.Name)] = new Operation(
                    operation.Value.GetProperty("operationId").GetString()!,
                    operation.Value.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet(),
                    parameters, operation.Value.TryGetProperty("requestBody", out _));
            }
        return operations;
    }
}

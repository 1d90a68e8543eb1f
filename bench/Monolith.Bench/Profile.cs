using System.Diagnostics;
using MediatR;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;

using Monolith.Lab;

namespace Monolith.Bench;

/// <summary>
/// A quick look at one transfer's cost, for working on the write path: sequential transfers on one pair of accounts,
/// per strategy, with and without an Idempotency-Key, against the raw-SQL transfer. Bytes allocated per transfer do not
/// depend on what else the machine runs, so they can be compared between builds on a busy machine; the times cannot.
/// BenchmarkDotNet (the cost mode) gives the figures for docs/benchmarks.md.
/// </summary>
internal static class Profile
{
    static AllocationSampler? _sampler;

    /// <param name="stages">
    /// Also the time waited on the database per kind of call. EF builds its diagnostic events only while someone
    /// listens, so the bytes allocated are higher in that run.
    /// </param>
    public static async Task RunAsync(string[] strategies, int transfers, bool allocations, bool stages)
    {
        using var sampler = _sampler = allocations ? new AllocationSampler() : null;
        using var waits = stages ? new DatabaseStages() : null;
        var database = new LedgerScratch("monolith_bench_profile");
        await database.CreateAsync(accounts: 2);
        await using (var raw = await RawTransfer.OpenAsync(database))
            await MeasureAsync("raw SQL", "-", i => raw.TransferAsync(database.Accounts[i % 2], database.Accounts[1 - i % 2], 1m), transfers, waits);
        foreach (var strategy in strategies)
        {
            await using var services = database.Services(strategy);
            await using var scope = services.CreateAsyncScope();
            var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
            var run = Guid.NewGuid().ToString("N")[..8];
            await MeasureAsync(strategy, "no", i => mediator.Send(new Transfer(LedgerScratch.Owner, database.Accounts[i % 2], database.Accounts[1 - i % 2], 1m)), transfers, waits);
            await MeasureAsync(strategy, "yes", i => mediator.Send(new Transfer(LedgerScratch.Owner, database.Accounts[i % 2], database.Accounts[1 - i % 2], 1m, $"{run}-{i}")), transfers, waits);
        }
    }

    static async Task MeasureAsync(string name, string key, Func<int, Task> transfer, int transfers, DatabaseStages? stages)
    {
        for (var i = 0; i < Math.Min(200, transfers); i++) await transfer(-i - 1 & int.MaxValue);
        if (_sampler is not null) _sampler.Recording = true;
        stages?.Start();
        var bytes = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < transfers; i++) await transfer(i);
        var elapsed = Stopwatch.GetElapsedTime(started);
        bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes;
        var waited = stages?.Stop() ?? new Dictionary<string, (int Count, double Microseconds)>();
        Console.WriteLine($"{name,-20} key {key,-3} {elapsed.TotalMicroseconds / transfers,8:F0} µs {bytes / 1024.0 / transfers,8:F1} KB per transfer");
        if (waited.Count > 0)
        {
            var inDatabase = waited.Sum(s => s.Value.Microseconds);
            foreach (var (stage, (count, microseconds)) in waited.OrderBy(s => s.Key, StringComparer.Ordinal))
                Console.WriteLine($"    {stage,-28} {count / (double)transfers,5:F2} per transfer {microseconds / transfers,8:F0} µs");
            Console.WriteLine($"    {"the rest (client CPU)",-28} {"",5}              {elapsed.TotalMicroseconds / transfers - inDatabase / transfers,8:F0} µs");
        }
        if (_sampler is null) return;
        _sampler.Recording = false;
        _sampler.Print(transfers);
    }
}

/// <summary>
/// How long EF waited on the database per kind of call (opening a connection, beginning, each kind of statement,
/// committing), from EF's own diagnostic events: the rest of a transfer's time is the stack's own work. The raw-SQL
/// transfer does not go through EF, so it shows none.
/// </summary>
internal sealed class DatabaseStages : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    readonly IDisposable _all;
    readonly List<IDisposable> _subscriptions = [];
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int Count, double Microseconds)> _stages = new();
    volatile bool _recording;

    public DatabaseStages() => _all = DiagnosticListener.AllListeners.Subscribe(this);

    public void Start()
    {
        _stages.Clear();
        _recording = true;
    }

    public IReadOnlyDictionary<string, (int Count, double Microseconds)> Stop()
    {
        _recording = false;
        return new Dictionary<string, (int, double)>(_stages);
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name == DbLoggerCategory.Name) lock (_subscriptions) _subscriptions.Add(listener.Subscribe(this));
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> e)
    {
        if (!_recording) return;
        var (stage, duration) = e.Value switch
        {
            CommandExecutedEventData c => (Statement(c.Command.CommandText), c.Duration),
            CommandErrorEventData c => (Statement(c.Command.CommandText) + " (failed)", c.Duration),
            TransactionEndEventData t when e.Key.EndsWith("TransactionCommitted", StringComparison.Ordinal) => ("COMMIT", t.Duration),
            TransactionEndEventData t when e.Key.EndsWith("TransactionStarted", StringComparison.Ordinal) => ("BEGIN", t.Duration),
            TransactionEndEventData t when e.Key.EndsWith("TransactionRolledBack", StringComparison.Ordinal) => ("ROLLBACK", t.Duration),
            ConnectionEndEventData c when e.Key.EndsWith("ConnectionOpened", StringComparison.Ordinal) => ("open connection", c.Duration),
            _ => (null, TimeSpan.Zero),
        };
        if (stage is not null)
            _stages.AddOrUpdate(stage, (1, duration.TotalMicroseconds), (_, s) => (s.Count + 1, s.Microseconds + duration.TotalMicroseconds));
    }

    /// <summary>A statement's kind and table: "SELECT accounts", "INSERT entries; INSERT entries; ...".</summary>
    static string Statement(string sql) =>
        string.Join("; ", sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(one =>
        {
            var words = one.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) return "";
            var verb = words[0].ToUpperInvariant();
            var table = verb switch
            {
                "SELECT" => words.SkipWhile(w => !w.Equals("FROM", StringComparison.OrdinalIgnoreCase)).Skip(1).FirstOrDefault(),
                "INSERT" => words.ElementAtOrDefault(2),
                "UPDATE" => words.ElementAtOrDefault(1),
                _ => words.ElementAtOrDefault(1),
            };
            return $"{verb} {table?.Split('.').Last().Trim('"', '`', '(')}".Trim();
        }));

    public void Dispose()
    {
        _all.Dispose();
        lock (_subscriptions) foreach (var subscription in _subscriptions) subscription.Dispose();
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }
    void IObserver<DiagnosticListener>.OnError(Exception error) { }
    void IObserver<KeyValuePair<string, object?>>.OnCompleted() { }
    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error) { }
}

/// <summary>
/// The runtime's allocation samples (one event per about 100 KB allocated, naming the type that crossed the line),
/// counted by type: where a transfer's bytes go, without a profiler.
/// </summary>
internal sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _bytes = new();
    public bool Recording { get; set; }

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (!Recording || e.EventName is not "GCAllocationTick_V4" and not "GCAllocationTick_V3" || e.Payload is null) return;
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, b) => b + amount);
    }

    public void Print(int transfers, int top = 25)
    {
        foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(top))
            Console.WriteLine($"  {bytes / 1024.0 / transfers,7:F1} KB  {type}");
        _bytes.Clear();
    }
}

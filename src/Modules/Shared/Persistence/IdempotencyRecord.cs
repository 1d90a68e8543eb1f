using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Monolith.Shared.Persistence;

/// <summary>
/// A command that may carry a client's idempotency key (the Idempotency-Key header). A key belongs to its caller: two
/// callers' equal keys are two keys, so neither can replay, or learn of, the other's request.
/// </summary>
public interface IIdempotentCommand : Access.ICallerRequest
{
    /// <summary>The request header that carries the key, on every route whose command takes one.</summary>
    public const string Header = "Idempotency-Key";

    string? IdempotencyKey { get; }
}

/// <summary>
/// The operation a caller's key produced, stored with the write in one transaction behind a unique index on (subject, key);
/// a replay answers with that operation as it stands (operations are immutable).
/// Two concurrent requests with one key: the second's insert fails on that index, its unit re-runs, and the
/// re-run finds the first's record and replays it.
/// </summary>
internal sealed class IdempotencyRecord
{
    public const int MaxKeyLength = 100;

    /// <summary>The caller's subject; empty for the single writer's batch markers, which no caller can name.</summary>
    public required string Subject { get; init; }
    public required string Key { get; init; }
    public required string RequestHash { get; init; }
    public required Guid OperationId { get; init; }
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; init; }

    internal static void Configure(ModelBuilder model) => model.Entity<IdempotencyRecord>(e =>
    {
        e.ToTable("idempotency_keys");
        e.HasKey(x => new { x.Subject, x.Key });
        e.Property(x => x.Subject).HasMaxLength(Access.Caller.MaxSubjectLength);
        e.Property(x => x.Key).HasMaxLength(MaxKeyLength);
        e.Property(x => x.RequestHash).HasMaxLength(64).IsFixedLength();
    });

    // Compiled once per module and model: every keyed request looks its key up, and a LINQ query would be translated
    // from its expression tree each time only to find the same SQL in EF's cache. A compiled query is bound to the
    // model it first ran with; a process whose contexts are built with different options (the cluster suite runs both
    // database profiles) has one model per options.
    static class Lookup<TDb> where TDb : ModuleDbContext
    {
        static readonly System.Collections.Concurrent.ConcurrentDictionary<Microsoft.EntityFrameworkCore.Metadata.IModel,
            Func<TDb, string, string, CancellationToken, Task<IdempotencyRecord?>>> ByModel = new();

        public static Func<TDb, string, string, CancellationToken, Task<IdempotencyRecord?>> For(TDb db) =>
            ByModel.GetOrAdd(db.Model, _ => EF.CompileAsyncQuery((TDb context, string subject, string key, CancellationToken _) =>
                context.Set<IdempotencyRecord>().AsNoTracking().FirstOrDefault(r => r.Subject == subject && r.Key == key)));
    }

    /// <summary>The stored record of the caller's <paramref name="key"/>, as committed (a plain read, untracked).</summary>
    internal static Task<IdempotencyRecord?> FindAsync<TDb>(TDb db, string subject, string key, CancellationToken ct) where TDb : ModuleDbContext =>
        Lookup<TDb>.For(db)(db, subject, key, ct);

    /// <summary>The stored operation, for the command that made it; another command with this key is refused.</summary>
    internal Guid Replay<TCommand>(TCommand command) where TCommand : IIdempotentCommand =>
        RequestHash == Fingerprint(command) ? OperationId : throw new Errors.IdempotencyKeyReusedException(Key);

    /// <summary>
    /// The command's fingerprint: its type and all its fields (the key among them, which the lookup fixes anyway), as
    /// parsed, not as sent: 1 and 1.0 are one amount, so one request.
    /// </summary>
    internal static string Fingerprint<TCommand>(TCommand command) where TCommand : IIdempotentCommand
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(command, FingerprintJson);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes(typeof(TCommand).FullName!));
        sha.AppendData(body);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    static readonly JsonSerializerOptions FingerprintJson = new() { Converters = { new NormalizedDecimal() } };

    /// <summary>A decimal without trailing zeros: decimal keeps the scale it was parsed with (1.0 is not 1 bit for bit).</summary>
    sealed class NormalizedDecimal : System.Text.Json.Serialization.JsonConverter<decimal>
    {
        public override decimal Read(ref Utf8JsonReader reader, Type type, JsonSerializerOptions options) => reader.GetDecimal();

        // Dividing by one with the most trailing zeros decimal holds strips the value's own.
        public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
            writer.WriteNumberValue(value / 1.0000000000000000000000000000m);
    }
}

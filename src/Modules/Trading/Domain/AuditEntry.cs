using System.Text.Json;

namespace Monolith.Trading.Domain;

/// <summary>
/// One state change of an account, order or trade: who, when, what, and the entity before and after, written in
/// the transaction of the change. Append-only: no code path updates or deletes a row. EntityVersion is the version
/// the change produced (0 for a creation), so each change of an entity has exactly one row.
/// </summary>
internal sealed class AuditEntry
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public long Id { get; private set; }
    public Guid AccountId { get; private set; }
    public string EntityType { get; private set; } = "";
    public Guid EntityId { get; private set; }
    public long EntityVersion { get; private set; }
    public string Action { get; private set; } = "";
    public string Actor { get; private set; } = "";
    public string? Before { get; private set; }
    public string After { get; private set; } = "";
    [DatabaseClock]
    public DateTimeOffset At { get; private set; }

    public static AuditEntry Of<TState>(Guid accountId, IAudited<TState> entity, string action, string actor, TState? before)
        where TState : class =>
        new()
        {
            AccountId = accountId, EntityType = entity.GetType().Name, EntityId = entity.Id,
            // Versions move by one per committed change; the strategy raises it at save, after this row is made.
            EntityVersion = before is null ? 0 : entity.Version + 1,
            Action = action, Actor = actor,
            Before = before is null ? null : JsonSerializer.Serialize(before, Json),
            After = JsonSerializer.Serialize(entity.State(), Json),
        };

    public TState AfterAs<TState>() => JsonSerializer.Deserialize<TState>(After, Json)!;
}

/// <summary>An entity whose changes are audited: its state as recorded in the audit log.</summary>
internal interface IAudited<out TState> : IFenced
{
    TState State();
}

namespace Monolith.Shared.Concurrency;

/// <summary>A row that commands change under a concurrency strategy. Version belongs to the strategy: domain code never sets it.</summary>
public interface IVersioned
{
    Guid Id { get; }
    long Version { get; }
}

/// <summary>
/// A versioned row that also stores the fencing token of its last writer, for the RedisLock strategy: a write
/// carries the token its lock was granted with and is refused if the row holds a newer one. Strategy-owned, like Version.
/// </summary>
public interface IFenced : IVersioned
{
    long FenceToken { get; }
}

/// <summary>
/// Names the append-only rows whose range belongs to this row (a ledger account's entries), for the GapLock strategy:
/// it locks that range, so no concurrent insert can slip into it while a balance check reads it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class AppendOnlyRangeAttribute(Type rowType, string ownerKeyProperty) : Attribute
{
    public Type RowType { get; } = rowType;
    public string OwnerKeyProperty { get; } = ownerKeyProperty;
}

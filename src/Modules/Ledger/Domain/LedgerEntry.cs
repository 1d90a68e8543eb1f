namespace Monolith.Ledger.Domain;

/// <summary>Append-only: no code path updates or deletes an entry. CreatedAt comes from the database clock.</summary>
internal sealed class LedgerEntry(Guid accountId, decimal amount, decimal balanceAfter, Guid operationId, OperationKind operation)
{
    public long Id { get; private set; }
    public Guid AccountId { get; private set; } = accountId;
    public decimal Amount { get; private set; } = amount;
    public decimal BalanceAfter { get; private set; } = balanceAfter;
    public Guid OperationId { get; private set; } = operationId;
    public OperationKind Operation { get; private set; } = operation;
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; private set; }
}

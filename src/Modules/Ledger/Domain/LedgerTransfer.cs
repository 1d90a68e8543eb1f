namespace Monolith.Ledger.Domain;

/// <summary>A two-legged operation between accounts of one currency; its entries carry its id.</summary>
internal sealed class LedgerTransfer(Guid fromAccountId, Guid toAccountId, string currency, decimal amount)
{
    public Guid Id { get; private set; } = Guid.CreateVersion7();
    public Guid FromAccountId { get; private set; } = fromAccountId;
    public Guid ToAccountId { get; private set; } = toAccountId;
    public string Currency { get; private set; } = currency;
    public decimal Amount { get; private set; } = amount;
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; private set; }
}

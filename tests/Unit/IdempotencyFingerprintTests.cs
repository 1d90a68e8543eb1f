using Monolith.Ledger.Features;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Unit;

/// <summary>What makes a replay the same request: the command's type and every field, the key included.</summary>
public sealed class IdempotencyFingerprintTests
{
    static readonly Guid A = Guid.CreateVersion7(), B = Guid.CreateVersion7();
    static readonly Caller Someone = Caller.Owner("someone");

    [Fact]
    public void The_same_command_has_the_same_fingerprint() =>
        Assert.Equal(IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 10m, "k")), IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 10m, "k")));

    [Fact]
    public void Any_other_field_changes_it()
    {
        var original = IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 10m, "k"));
        Assert.NotEqual(original, IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 10.00000001m, "k")));
        Assert.NotEqual(original, IdempotencyRecord.Fingerprint(new Transfer(Someone, B, A, 10m, "k")));
    }

    [Fact]
    public void An_amount_is_compared_as_a_number_not_as_written()
    {
        var plain = IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 1m, "k"));
        Assert.Equal(plain, IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 1.0m, "k")));
        Assert.Equal(plain, IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 1.00000000m, "k")));
        Assert.Equal(IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 999_999_999_999_999_999.99999999m, "k")),
            IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 999_999_999_999_999_999.999999990m, "k")));
    }

    [Fact]
    public void Another_command_type_with_the_same_fields_changes_it() =>
        Assert.NotEqual(IdempotencyRecord.Fingerprint(new Deposit(Someone, A, 10m, "k")), IdempotencyRecord.Fingerprint(new Withdraw(Someone, A, 10m, "k")));

    [Fact]
    public void It_is_a_sha256_in_hex_that_fits_its_column() =>
        Assert.Matches("^[0-9a-f]{64}$", IdempotencyRecord.Fingerprint(new Transfer(Someone, A, B, 10m, "k")));
}

using System.Security.Claims;
using Monolith.Shared.Errors;

namespace Monolith.Tests.Unit;

/// <summary>
/// Who may read and who may spend (docs/security.md): an owner both, an operator reads only, anyone else neither, and
/// every refusal is the 404 an unknown id gets. Subjects are what an owner column and a log line hold.
/// </summary>
public sealed class CallerTests
{
    sealed record Account(string Owner) : IOwned;

    static readonly Guid Id = Guid.CreateVersion7();
    static readonly Account Alices = new("alice");
    static readonly Caller Alice = Caller.Owner("alice"), Mallory = Caller.Owner("mallory"), Operator = Caller.Operator("ops");

    [Fact]
    public void An_owner_reads_and_spends_its_own()
    {
        Assert.Same(Alices, Alice.Reads(Alices, "Account", Id));
        Assert.Same(Alices, Alice.Spends(Alices, "Account", Id));
    }

    [Fact]
    public void An_operator_reads_anyones_but_spends_only_its_own()
    {
        Assert.Same(Alices, Operator.Reads(Alices, "Account", Id));
        Assert.Throws<NotFoundException>(() => Operator.Spends(Alices, "Account", Id));
        var own = new Account("ops");
        Assert.Same(own, Operator.Spends(own, "Account", Id));
    }

    [Fact]
    public void Another_owner_and_a_missing_resource_are_refused_alike()
    {
        var unknown = Assert.Throws<NotFoundException>(() => Alice.Reads<Account>(null, "Account", Id));
        Assert.Equal(unknown.Message, Assert.Throws<NotFoundException>(() => Mallory.Reads(Alices, "Account", Id)).Message);
        Assert.Equal(unknown.Message, Assert.Throws<NotFoundException>(() => Mallory.Spends(Alices, "Account", Id)).Message);
        Assert.Equal(unknown.Message, Assert.Throws<NotFoundException>(() => Alice.Spends<Account>(null, "Account", Id)).Message);
        Assert.Throws<NotFoundException>(() => Operator.Reads<Account>(null, "Account", Id));
    }

    [Fact]
    public void A_row_with_no_owner_is_spent_by_nobody_and_read_by_operators_only()
    {
        // Nobody: no request's caller has the empty subject (the next test), and an operator spends only its own.
        var ownerless = new Account(Caller.NoOwner);
        Assert.False(Caller.IsValidSubject(Caller.NoOwner));
        Assert.Throws<NotFoundException>(() => Operator.Spends(ownerless, "Account", Id));
        Assert.Throws<NotFoundException>(() => Alice.Reads(ownerless, "Account", Id));
        Assert.Same(ownerless, Operator.Reads(ownerless, "Account", Id));
    }

    [Fact]
    public void Only_an_operator_passes_EnsureOperator()
    {
        Operator.EnsureOperator("deposit");
        Assert.Contains("deposit", Assert.Throws<ForbiddenException>(() => Alice.EnsureOperator("deposit")).Message);
    }

    [Fact]
    public void Readable_rows_are_an_operators_all_and_an_owners_own()
    {
        var rows = new[] { Alices, new Account("mallory"), new Account(Caller.NoOwner) }.AsQueryable();
        Assert.Equal(3, rows.ReadableBy(Operator).Count());
        Assert.Equal([Alices], rows.ReadableBy(Alice).ToArray());
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("!~", true)] // the first and last printable ASCII characters
    [InlineData("", false)]
    [InlineData(" alice", false)]
    [InlineData("al ice", false)]
    [InlineData("alice\u007f", false)]
    [InlineData("alice\u0080", false)]
    [InlineData("\u00e5lice", false)]
    [InlineData(null, false)]
    public void A_subject_is_1_to_100_printable_ASCII_characters(string? subject, bool valid) =>
        Assert.Equal(valid, Caller.IsValidSubject(subject));

    [Fact]
    public void A_subject_of_100_characters_fits_its_column_and_one_more_does_not()
    {
        Assert.True(Caller.IsValidSubject(new string('a', Caller.MaxSubjectLength)));
        Assert.False(Caller.IsValidSubject(new string('a', Caller.MaxSubjectLength + 1)));
    }

    [Fact]
    public void The_caller_of_a_request_is_its_tokens_subject_and_role()
    {
        static ClaimsPrincipal Token(params Claim[] claims) => new(new ClaimsIdentity(claims, "Bearer", Caller.SubjectClaim, Caller.RoleClaim));

        Assert.Equal(Caller.Owner("alice"), Caller.Of(Token(new Claim(Caller.SubjectClaim, "alice"))));
        Assert.Equal(Caller.Operator("ops"), Caller.Of(Token(new Claim(Caller.SubjectClaim, "ops"), new Claim(Caller.RoleClaim, Caller.OperatorRole))));
        Assert.Equal(Caller.Owner("ops"), Caller.Of(Token(new Claim(Caller.SubjectClaim, "ops"), new Claim(Caller.RoleClaim, "auditor"))));
        Assert.Throws<InvalidOperationException>(() => Caller.Of(Token()));
        Assert.Throws<InvalidOperationException>(() => Caller.Of(Token(new Claim(Caller.SubjectClaim, "al ice"))));
        Assert.Throws<InvalidOperationException>(() => Caller.Of(Token(new Claim(Caller.SubjectClaim, Caller.NoOwner))));
    }
}

using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Monolith.Shared.Errors;

namespace Monolith.Shared.Access;

/// <summary>
/// Who sends a command or query: the subject of the bearer token that authenticated the request, and whether it holds
/// the operator role. Every command and query the API routes carries its caller, so that the handler, not the
/// endpoint, decides what the caller may read and spend, whoever sends the command (the Host, a test, the benchmark).
/// </summary>
public sealed record Caller(string Subject, bool IsOperator = false)
{
    /// <summary>The role that may read every resource, make deposits and suspend or resume trading accounts.</summary>
    public const string OperatorRole = "operator";

    /// <summary>The token claim holding the subject, as JWT names it (RFC 7519).</summary>
    public const string SubjectClaim = "sub";

    /// <summary>The token claim holding the roles.</summary>
    public const string RoleClaim = "role";

    /// <summary>The longest subject an owner column and the audit log's actor hold.</summary>
    public const int MaxSubjectLength = 100;

    /// <summary>
    /// The owner recorded on rows that existed before resources had owners: no token can carry an empty subject, so
    /// nobody may spend from them, and only operators read them.
    /// </summary>
    public const string NoOwner = "";

    public static Caller Owner(string subject) => new(subject);
    public static Caller Operator(string subject) => new(subject, IsOperator: true);

    /// <summary>The caller of an authenticated request; the authentication handler has already refused a token without a usable subject.</summary>
    public static Caller Of(ClaimsPrincipal user) =>
        user.FindFirst(SubjectClaim)?.Value is { } subject && IsValidSubject(subject)
            ? new Caller(subject, user.IsInRole(OperatorRole))
            : throw new InvalidOperationException("The request is not authenticated: every API route requires a bearer token.");

    /// <summary>Lets a minimal API endpoint take the caller as a parameter.</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext http) => ValueTask.FromResult<Caller?>(Of(http.User));

    /// <summary>Whether a token may name this subject: printable ASCII, as an owner column and a log line hold it.</summary>
    public static bool IsValidSubject(string? subject) =>
        subject is { Length: > 0 and <= MaxSubjectLength } && subject.All(c => c is >= '\x21' and <= '\x7E');

    /// <summary>The resource, if this caller may read it: its owner, or an operator. Anyone else is told it does not exist.</summary>
    public T Reads<T>(T? resource, string kind, Guid id) where T : class, IOwned =>
        resource is not null && (IsOperator || resource.Owner == Subject) ? resource : throw new NotFoundException(kind, id);

    /// <summary>The resource, if this caller may move money or tokens out of it: only its owner. Anyone else is told it does not exist.</summary>
    public T Spends<T>(T? resource, string kind, Guid id) where T : class, IOwned =>
        resource is not null && resource.Owner == Subject ? resource : throw new NotFoundException(kind, id);

    /// <summary>Refuses a caller without the operator role.</summary>
    public void EnsureOperator(string action)
    {
        if (!IsOperator) throw new ForbiddenException(action);
    }
}

/// <summary>A request sent on behalf of a caller.</summary>
public interface ICallerRequest
{
    Caller Caller { get; }
}

/// <summary>A resource that belongs to the subject that opened it.</summary>
public interface IOwned
{
    string Owner { get; }
}

public static class OwnedQueries
{
    /// <summary>The rows this caller may read: all for an operator, its own for anyone else.</summary>
    public static IQueryable<T> ReadableBy<T>(this IQueryable<T> rows, Caller caller) where T : IOwned =>
        caller.IsOperator ? rows : rows.Where(r => r.Owner == caller.Subject);
}

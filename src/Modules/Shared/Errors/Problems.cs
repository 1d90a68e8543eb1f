namespace Monolith.Shared.Errors;

/// <summary>An outcome the API reports as a problem (RFC 9457) with its own status; never a 500.</summary>
public abstract class ProblemException(string title, string detail, Exception? cause = null) : Exception(detail, cause)
{
    public string Title { get; } = title;
}

/// <summary>404: the resource does not exist.</summary>
public sealed class NotFoundException(string resource, object id)
    : ProblemException($"{resource} not found", $"{resource} '{id}' does not exist.");

/// <summary>
/// 400: a keyset cursor that is well-formed but names no row of the sequence being paged; only the database can tell,
/// so it is found by the handler, not the validator.
/// </summary>
public sealed class InvalidCursorException(string parameter, string detail) : ProblemException("Invalid request", detail)
{
    public string Parameter { get; } = parameter;
}

/// <summary>422: the request is well-formed but a business rule refuses it (insufficient funds, currency mismatch).</summary>
public sealed class BusinessRuleException(string title, string detail) : ProblemException(title, detail);

/// <summary>422: an idempotency key was reused with a different request body.</summary>
public sealed class IdempotencyKeyReusedException(string key)
    : ProblemException("Idempotency key reused", $"The idempotency key '{key}' was already used with a different request.");

/// <summary>409: contention the strategy could not resolve within its attempts; the client may retry later.</summary>
public sealed class ContentionException(string strategy, int attempts, Exception last)
    : ProblemException("Contention", $"The {strategy} strategy gave up after {attempts} attempts; retry later.")
{
    public int Attempts { get; } = attempts;
    public Exception LastFailure { get; } = last;
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);
}

/// <summary>
/// 503: a dependency the write needs (the Redis lock service) is unreachable; nothing was written. Retry later. The
/// cause (addresses, the client's state) is for the log, never the response: it is the inner exception.
/// </summary>
public sealed class ServiceUnavailableException(string dependency, Exception cause)
    : ProblemException($"{dependency} unavailable", $"{dependency} cannot be reached, so nothing was written; retry later.", cause)
{
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(2);
}

/// <summary>503: the module's write queue is full; the unit was not queued, so nothing was written. Retry later.</summary>
public sealed class WriteQueueFullException(string module, int capacity)
    : ProblemException("Too many writes", $"The {module} write queue holds {capacity} units waiting; nothing was written. Retry later.")
{
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);
}

/// <summary>403: the caller is authenticated but its role does not allow this action (an owner making a deposit).</summary>
public sealed class ForbiddenException(string action)
    : ProblemException("Forbidden", $"Only an operator may {action}.");

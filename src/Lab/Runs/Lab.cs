using System.Runtime.CompilerServices;
using FluentValidation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using MediatR;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Shared.Access;
using Monolith.Shared.Behaviors;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Lab;

/// <summary>
/// The strategy lab (docs/lab.md): /lab, a page that races strategies on a module's hot rows in this process and
/// draws them live, and its API under /api/lab, for operators only (a run loads the database server). Off unless
/// Lab:Enabled (on in Development).
/// </summary>
public sealed class LabOptions
{
    public const string Section = "Lab";

    public bool Enabled { get; set; }
    public int MaxWorkers { get; set; } = 64;
    public int MaxDurationSeconds { get; set; } = 60;
    public int MaxHotSet { get; set; } = 10_000;
    public int MaxStrategies { get; set; } = 4;

    public static LabOptions From(IConfiguration configuration) => configuration.GetSection(Section).Get<LabOptions>() ?? new LabOptions();
}

/// <summary>What a person starts: a module's race, on how many rows, with how many workers, for how long, under which strategies.</summary>
public sealed record StartLabRun(string Workload, int HotSet, int Workers, int DurationSeconds, IReadOnlyList<string> Strategies) : ICommand<LabRunView>;

/// <summary>What the lab was configured with: its bounds, its workloads, and the Host's database profile.</summary>
internal sealed record LabSetup(LabOptions Options, IReadOnlyList<IRaceWorkload> Workloads, DatabaseProfile Profile);

/// <summary>The races a lab run or the bench can name, one per module that has hot rows worth racing.</summary>
public static class RaceWorkloads
{
    public static IReadOnlyList<IRaceWorkload> All { get; } = [new LedgerTransferRace(), new PortfolioTradeRace()];
}

/// <summary>The workloads a run can name, and what the configuration allows.</summary>
public sealed record LabCatalog(IReadOnlyList<LabWorkloadView> Workloads, int MaxWorkers, int MaxDurationSeconds, int MaxHotSet, int MaxStrategies);

public sealed record LabWorkloadView(string Name, string Title, IReadOnlyList<string> Strategies);

internal sealed class StartLabRunValidator : AbstractValidator<StartLabRun>
{
    public StartLabRunValidator(LabSetup setup)
    {
        var (options, workloads, profile) = setup;
        RuleFor(r => r.Workload).Must(w => workloads.Any(x => x.Name == w))
            .WithMessage($"'workload' must be one of: {string.Join(", ", workloads.Select(w => w.Name))}.");
        RuleFor(r => r.HotSet).InclusiveBetween(2, options.MaxHotSet);
        RuleFor(r => r.Workers).InclusiveBetween(1, options.MaxWorkers);
        RuleFor(r => r.DurationSeconds).InclusiveBetween(1, options.MaxDurationSeconds);
        RuleFor(r => r.Strategies).NotEmpty().Must(s => s is null || s.Count <= options.MaxStrategies)
            .WithMessage($"At most {options.MaxStrategies} strategies race at once.")
            .Must(s => s is null || s.Distinct(StringComparer.OrdinalIgnoreCase).Count() == s.Count).WithMessage("Each strategy races once.");
        RuleForEach(r => r.Strategies).Must((run, strategy) => workloads.FirstOrDefault(w => w.Name == run.Workload) is not { } workload || workload.Strategies.Contains(strategy))
            .WithMessage((run, strategy) => $"'{strategy}' cannot race in {run.Workload}: choose from {string.Join(", ", workloads.FirstOrDefault(w => w.Name == run.Workload)?.Strategies ?? [])}.");
        if (profile != DatabaseProfile.GaleraCluster) return;
        RuleForEach(r => r.Strategies).Must(strategy => RefusalOnCluster(strategy) is null)
            .WithMessage((_, strategy) => $"'{strategy}' is refused on {DatabaseProfiles.Key} {profile}: {RefusalOnCluster(strategy)}.");
    }

    static string? RefusalOnCluster(string strategy) => StrategyDefinition.BuiltIn.FirstOrDefault(d => d.Name == strategy)?.RefusedOnCluster;
}

/// <summary>A second start while a run is going: refused, with when to try again.</summary>
public sealed class LabBusyException(LabRunView running) : ProblemException(
    "A lab run is in progress",
    $"Run {running.Id} ({string.Join(" vs ", running.Lanes.Select(l => l.Strategy))}) is still going; runs go one at a time. Start again when it has ended.")
{
    public LabRunView Running { get; } = running;

    /// <summary>When the running one should have ended, at least a second from now.</summary>
    public TimeSpan RetryAfter => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(Running.DurationSeconds - Running.ElapsedSeconds)));
}

internal sealed class StartLabRunHandler(LabRuns runs) : IRequestHandler<StartLabRun, LabRunView>
{
    public Task<LabRunView> Handle(StartLabRun request, CancellationToken cancellationToken) => Task.FromResult(runs.Start(request).View());
}

public static class LabEndpoints
{
    /// <summary>The lab's services, its request and its validator, when Lab:Enabled is set; nothing of it otherwise.</summary>
    public static void AddLab(this WebApplicationBuilder builder)
    {
        var options = LabOptions.From(builder.Configuration);
        if (!options.Enabled) return;
        var profile = DatabaseProfiles.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(RaceWorkloads.All);
        builder.Services.AddSingleton(new LabSetup(options, RaceWorkloads.All, profile));
        builder.Services.AddSingleton<LabRuns>();
        builder.Services.AddModuleRequests(typeof(LabEndpoints).Assembly, profile);
    }

    public static void MapLab(this WebApplication app)
    {
        if (!LabOptions.From(app.Configuration).Enabled) return;
        var page = Path.Combine(AppContext.BaseDirectory, "Lab", "lab.html");
        app.MapGet("/lab", () => TypedResults.PhysicalFile(page, "text/html; charset=utf-8")).ExcludeFromDescription();

        var lab = app.MapGroup("/api/lab").WithTags("Lab").RequireAuthorization(new AuthorizeAttribute { Roles = Caller.OperatorRole });
        OperatorsOnly(lab.MapGet("/", (LabOptions options, IReadOnlyList<IRaceWorkload> workloads) => TypedResults.Ok(new LabCatalog(
                workloads.Select(w => new LabWorkloadView(w.Name, w.Title, w.Strategies)).ToList(),
                options.MaxWorkers, options.MaxDurationSeconds, options.MaxHotSet, options.MaxStrategies))))
            .WithName("GetLabCatalog").WithSummary("The workloads a lab run can race, and the configured bounds");
        OperatorsOnly(lab.MapPost("/runs", Start))
            .WithName("StartLabRun").WithSummary("Starts a race of the strategies on the workload's hot rows, in scratch databases; one run at a time")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        OperatorsOnly(lab.MapGet("/runs/{id:guid}", Results<Ok<LabRunView>, NotFound> (Guid id, LabRuns runs) =>
                runs.Find(id) is { } run ? TypedResults.Ok(run.View()) : TypedResults.NotFound()))
            .WithName("GetLabRun").WithSummary("A run: its state, each strategy's figures per second, and the invariants once it has ended");
        OperatorsOnly(lab.MapGet("/runs/{id:guid}/events", Results<ServerSentEventsResult<LabRunView>, NotFound> (Guid id, LabRuns runs, CancellationToken ct) =>
                runs.Find(id) is { } run ? TypedResults.ServerSentEvents(Snapshots(run, ct), eventType: "snapshot") : TypedResults.NotFound()))
            .WithName("StreamLabRun").WithSummary("The run as server-sent events: a snapshot twice a second until it has ended");
    }

    static RouteHandlerBuilder OperatorsOnly(RouteHandlerBuilder route) =>
        route.ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

    static async Task<Created<LabRunView>> Start(StartLabRun request, IMediator mediator, CancellationToken ct)
    {
        var run = await mediator.Send(request, ct);
        return TypedResults.Created($"/api/lab/runs/{run.Id}", run);
    }

    static async IAsyncEnumerable<LabRunView> Snapshots(LabRun run, [EnumeratorCancellation] CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var view = run.View();
            yield return view;
            if (view.Ended) yield break;
            try { await Task.Delay(TimeSpan.FromMilliseconds(500), ct); }
            catch (OperationCanceledException) { yield break; }
        }
    }
}

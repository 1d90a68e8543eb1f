using System.Reflection;
using System.Text.RegularExpressions;
using MediatR;
using Microsoft.EntityFrameworkCore;
using Monolith.Ledger;
using Monolith.Portfolio;
using Monolith.Trading;
using Monolith.Shared.Concurrency;
using NetArchTest.Rules;

namespace Monolith.Tests.Architecture;

public sealed class ModuleBoundaryTests
{
    /// <summary>Every module the Host composes: the Monolith assemblies it references, Shared excepted.</summary>
    public static TheoryData<string> Modules()
    {
        var data = new TheoryData<string>();
        foreach (var name in ModuleAssemblies().Select(a => a.GetName().Name!)) data.Add(name);
        return data;
    }

    static IEnumerable<Assembly> ModuleAssemblies() =>
        typeof(Program).Assembly.GetReferencedAssemblies()
            .Where(n => n.Name!.StartsWith("Monolith.", StringComparison.Ordinal) && n.Name != "Monolith.Shared")
            .Select(Assembly.Load);

    [Fact]
    public void The_host_composes_every_module()
    {
        Assert.Contains(typeof(LedgerModule).Assembly, ModuleAssemblies());
        Assert.Contains(typeof(PortfolioModule).Assembly, ModuleAssemblies());
        Assert.Contains(typeof(TradingModule).Assembly, ModuleAssemblies());
    }

    [Theory]
    [MemberData(nameof(Modules))]
    public void A_module_depends_on_no_other_module_and_not_on_the_host(string module)
    {
        var forbidden = ModuleAssemblies().Select(a => a.GetName().Name!).Where(n => n != module).Append("Monolith.Host").ToArray();
        var result = Types.InAssembly(Assembly.Load(module)).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful, $"{module} depends on {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Shared_depends_on_no_module()
    {
        var modules = ModuleAssemblies().Select(a => a.GetName().Name!).Append("Monolith.Host").ToArray();
        var result = Types.InAssembly(typeof(IConcurrencyStrategy<>).Assembly).ShouldNot().HaveDependencyOnAny(modules).GetResult();
        Assert.True(result.IsSuccessful, $"Shared depends on a module: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Theory]
    [MemberData(nameof(Modules))]
    public void Handlers_validators_and_db_contexts_are_internal(string module)
    {
        var assembly = Assembly.Load(module);
        var exposed = assembly.GetTypes().Where(t => t.IsPublic && (
                t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequestHandler<,>)) ||
                t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(FluentValidation.IValidator<>)) ||
                typeof(DbContext).IsAssignableFrom(t)))
            .Select(t => t.FullName).ToList();
        Assert.True(assembly.GetTypes().Any(t => typeof(DbContext).IsAssignableFrom(t)), $"{module} has no DbContext");
        Assert.Empty(exposed);
    }

    [Fact]
    public void Only_concurrency_strategies_call_SaveChanges()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Monolith.sln"))) root = root.Parent!;
        var strategies = Path.Combine(root.FullName, "src", "Modules", "Shared", "Concurrency");
        var offenders = Directory.EnumerateFiles(Path.Combine(root.FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(strategies, StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}"))
            .Where(f => Regex.IsMatch(File.ReadAllText(f), @"\bSaveChanges(Async)?\s*\("))
            .ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void No_code_path_updates_or_deletes_audit_rows()
    {
        // The audit entry offers no way to change it once made: private setters and no instance method that writes.
        var audit = typeof(TradingModule).Assembly.GetType("Monolith.Trading.Domain.AuditEntry", throwOnError: true)!;
        Assert.All(audit.GetProperties(BindingFlags.Instance | BindingFlags.Public), p => Assert.False(p.SetMethod?.IsPublic ?? false, p.Name));
        Assert.DoesNotContain(audit.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly),
            m => m.Name.StartsWith("set_", StringComparison.Ordinal) && m.IsAssembly);

        // And no source removes, updates or bulk-changes the audit set.
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Monolith.sln"))) root = root.Parent!;
        var offenders = Directory.EnumerateFiles(Path.Combine(root.FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}"))
            .Where(f => Regex.IsMatch(File.ReadAllText(f), @"\bAudit\s*\.\s*(Remove|RemoveRange|Update|UpdateRange|Attach|ExecuteUpdate\w*|ExecuteDelete\w*)\b"))
            .ToList();
        Assert.Empty(offenders);
    }
}

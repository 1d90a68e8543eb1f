using System.Reflection;
using System.Text.RegularExpressions;
using MediatR;
using Microsoft.EntityFrameworkCore;
using Monolith.Shared.Concurrency;
using Monolith.Shared.Modules;
using Monolith.Trading;
using NetArchTest.Rules;

namespace Monolith.Tests.Architecture;

public sealed class ModuleBoundaryTests
{
    /// <summary>Every module the Host composes: what the catalog finds beside it.</summary>
    public static TheoryData<string> Modules()
    {
        var data = new TheoryData<string>();
        foreach (var name in ModuleAssemblies().Select(a => a.GetName().Name!)) data.Add(name);
        return data;
    }

    static IEnumerable<Assembly> ModuleAssemblies() => ModuleCatalog.All.Select(m => m.GetType().Assembly).Distinct();

    static DirectoryInfo Root()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "Monolith.sln"))) root = root.Parent!;
        return root;
    }

    [Fact]
    public void The_host_composes_every_module_project_and_each_project_is_one_module()
    {
        var projects = Directory.EnumerateDirectories(Path.Combine(Root().FullName, "src", "Modules"))
            .Select(d => Path.GetFileName(d)!).Where(name => name != "Shared").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(projects);
        Assert.Equal(projects, ModuleCatalog.All.Select(m => m.GetType().Assembly.GetName().Name!["Monolith.".Length..]).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(ModuleCatalog.All.Count, ModuleCatalog.All.Select(m => m.Name).Distinct().Count());
    }

    [Fact]
    public void The_host_enumerates_modules_and_never_names_one()
    {
        var modules = ModuleCatalog.All.Select(m => m.GetType().Namespace!).Distinct().ToArray();
        var result = Types.InAssembly(typeof(Program).Assembly).ShouldNot().HaveDependencyOnAny(modules).GetResult();
        Assert.True(result.IsSuccessful, $"The Host names a module in {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Shared_depends_on_no_http_result_type()
    {
        var result = Types.InAssembly(typeof(IConcurrencyStrategy<>).Assembly).ShouldNot()
            .HaveDependencyOnAny("Microsoft.AspNetCore.Http.HttpResults", "Microsoft.AspNetCore.Http.TypedResults",
                "Microsoft.AspNetCore.Http.Results", "Microsoft.AspNetCore.Http.IResult")
            .GetResult();
        Assert.True(result.IsSuccessful, $"Shared builds HTTP results in {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Theory]
    [MemberData(nameof(Modules))]
    public void Handlers_never_construct_a_validation_exception(string module)
    {
        // Bad input is refused by the validation behavior alone; a handler that finds bad input only the database can
        // see throws a problem exception of its own (InvalidCursorException).
        var result = Types.InAssembly(Assembly.Load(module)).ShouldNot().HaveDependencyOn("FluentValidation.ValidationException").GetResult();
        Assert.True(result.IsSuccessful, $"{module} throws ValidationException in {string.Join(", ", result.FailingTypeNames ?? [])}");
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

    [Fact]
    public void No_product_module_and_not_Shared_references_the_lab()
    {
        var lab = typeof(Monolith.Lab.RaceWorkloads).Assembly.GetName().Name!;
        foreach (var assembly in ModuleAssemblies().Append(typeof(IConcurrencyStrategy<>).Assembly))
        {
            Assert.DoesNotContain(lab, assembly.GetReferencedAssemblies().Select(a => a.Name));
            var result = Types.InAssembly(assembly).ShouldNot().HaveDependencyOn(lab).GetResult();
            Assert.True(result.IsSuccessful, $"{assembly.GetName().Name} names the lab in {string.Join(", ", result.FailingTypeNames ?? [])}");
        }
    }

    [Fact]
    public void IModule_has_no_lab_member()
    {
        var lab = typeof(Monolith.Lab.RaceWorkloads).Assembly;
        static IEnumerable<Type> Signature(MemberInfo member) => member switch
        {
            MethodInfo m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType),
            PropertyInfo p => [p.PropertyType],
            _ => [],
        };
        static IEnumerable<Type> WithArguments(Type t) => t.IsGenericType ? t.GetGenericArguments().SelectMany(WithArguments).Prepend(t) : [t];
        var members = typeof(IModule).GetMembers();
        Assert.NotEmpty(members);
        var offending = members.Where(m => m.Name.Contains("Lab") || m.Name.Contains("Race") || Signature(m).SelectMany(WithArguments).Any(t => t.Assembly == lab))
            .Select(m => m.Name).ToList();
        Assert.Empty(offending);
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

    /// <summary>
    /// SingleWriter is a folder of its own: outside it, the code of src/ names none of its types but the one entry the
    /// strategy catalog lists (comments and strings aside). A SingleWriter hook in a file every strategy pays for fails this.
    /// </summary>
    [Fact]
    public void Nothing_outside_the_SingleWriter_folder_names_a_SingleWriter_type()
    {
        var folder = Path.Combine(Root().FullName, "src", "Modules", "Shared", "Concurrency", "Strategies", "SingleWriter");
        var declared = Directory.EnumerateFiles(folder, "*.cs")
            .SelectMany(f => Regex.Matches(CodeOf(f), @"\b(?:class|interface|record|struct|enum)\s+(\w+)").Select(m => m.Groups[1].Value))
            .Distinct().Where(name => name != "SingleWriterStrategy").ToList();
        Assert.Contains("BatchSession", declared);
        Assert.Contains("SingleWriter", declared);
        // "SingleWriter" is also the strategy's configured name (StrategyName.SingleWriter): the type is named with its <TDb>.
        var patterns = declared.Select(name => name == "SingleWriter" ? @"\bSingleWriter\s*<" : $@"\b{name}\b").ToList();
        var offenders = Directory.EnumerateFiles(Path.Combine(Root().FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .SelectMany(f => patterns.Where(p => Regex.IsMatch(CodeOf(f), p)).Select(p => $"{Path.GetRelativePath(Root().FullName, f)} names {p}"))
            .ToList();
        Assert.Empty(offenders);
    }

    /// <summary>A source file without its comments and string literals: what the compiler reads as names.</summary>
    static string CodeOf(string file)
    {
        var text = File.ReadAllText(file);
        text = Regex.Replace(text, @"//[^\n]*", "");
        text = Regex.Replace(text, @"/\*.*?\*/", "", RegexOptions.Singleline);
        return Regex.Replace(text, @"\$?@?""(?:[^""\\]|\\.)*""", "\"\"");
    }

    [Fact]
    public void Only_the_write_sessions_write()
    {
        // Rows are written by the write sessions' RowWriter alone: nothing calls EF's SaveChanges, and nothing outside
        // the concurrency core names the writer.
        var root = Root();
        var core = Path.Combine(root.FullName, "src", "Modules", "Shared", "Concurrency");
        var sources = Directory.EnumerateFiles(Path.Combine(root.FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}"))
            .ToList();
        Assert.Empty(sources.Where(f => Regex.IsMatch(CodeOf(f), @"\bSaveChanges(Async)?\s*\(")));
        Assert.Empty(sources.Where(f => !f.StartsWith(core, StringComparison.Ordinal) && Regex.IsMatch(CodeOf(f), @"\bRowWriter\b")));
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
        var root = Root();
        var offenders = Directory.EnumerateFiles(Path.Combine(root.FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}"))
            .Where(f => Regex.IsMatch(File.ReadAllText(f), @"\bAudit\s*\.\s*(Remove|RemoveRange|Update|UpdateRange|Attach|ExecuteUpdate\w*|ExecuteDelete\w*)\b"))
            .ToList();
        Assert.Empty(offenders);
    }
}

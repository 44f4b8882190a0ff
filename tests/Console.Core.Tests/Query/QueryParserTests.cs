using ComplianceConsole.Core.Query;

namespace ComplianceConsole.Core.Tests.Query;

public sealed class QueryParserTests
{
    private static AuditQuery Ok(string text)
    {
        var result = QueryParser.Parse(text);
        Assert.True(result.Ok, string.Join(" | ", result.Problems.Select(p => p.Message)));
        return result.Query;
    }

    private static QueryProblem Bad(string text)
    {
        var result = QueryParser.Parse(text);
        return Assert.Single(result.Problems);
    }

    [Theory]
    [InlineData("actor:olivia", "actor", "olivia")]
    [InlineData("table:Customers", "table", "Customers")]
    [InlineData("op:update", "op", "update")]
    [InlineData("op:UPDATE", "op", "update")]
    [InlineData("operation:Delete", "op", "delete")]
    [InlineData("record:7", "record", "7")]
    [InlineData("origin:page:/customers/*", "origin", "page:/customers/*")]
    [InlineData("correlation:3f2a9b", "correlation", "3f2a9b")]
    [InlineData("tx:abc123", "tx", "abc123")]
    [InlineData("event:auth.*", "event", "auth.*")]
    [InlineData("outofband:true", "outofband", "true")]
    [InlineData("outofband:YES", "outofband", "true")]
    [InlineData("ip:10.20.*", "ip", "10.20.*")]
    [InlineData("USER:Olivia", "actor", "Olivia")]
    [InlineData("actor:\"Olivia Officer\"", "actor", "Olivia Officer")]
    public void Every_field_parses_to_one_clause(string text, string field, string value)
    {
        var clause = Assert.Single(Ok(text).Clauses);
        Assert.Equal(field, clause.Field);
        Assert.Equal(value, Assert.Single(clause.Values));
        Assert.False(clause.Negated);
    }

    [Fact]
    public void Conditions_side_by_side_all_hold_and_keep_their_order()
    {
        var query = Ok("table:Customers op:update actor:olivia");
        Assert.Equal(["table", "op", "actor"], query.Clauses.Select(c => c.Field));
    }

    [Theory]
    [InlineData("-op:delete")]
    [InlineData("NOT op:delete")]
    [InlineData("NOT  op:delete")]
    public void Minus_and_NOT_negate(string text)
    {
        var clause = Assert.Single(Ok(text).Clauses);
        Assert.True(clause.Negated);
        Assert.Equal("delete", clause.Values[0]);
    }

    [Fact]
    public void A_parenthesised_list_is_one_clause_with_alternatives()
    {
        var clause = Assert.Single(Ok("table:(Customers OR Accounts OR \"Account Signatories\")").Clauses);
        Assert.Equal(["Customers", "Accounts", "Account Signatories"], clause.Values);
        Assert.True(Assert.Single(Ok("-op:( insert OR delete )").Clauses).Negated);
    }

    [Fact]
    public void Quoted_and_bare_text_is_free_text()
    {
        var query = Ok("\"Harbour Road\" Lovelace -\"INV-1\"");
        Assert.All(query.Clauses, c => Assert.Equal(QueryFields.Text, c.Field));
        Assert.Equal(["Harbour Road", "Lovelace", "INV-1"], query.Clauses.Select(c => c.Values[0]));
        Assert.Equal([false, false, true], query.Clauses.Select(c => c.Negated));
        Assert.Equal("say \"hi\"", Ok("\"say \\\"hi\\\"\"").Clauses[0].Values[0]);
    }

    [Fact]
    public void AND_is_allowed_and_changes_nothing()
    {
        Assert.Equal(Ok("op:update table:Customers"), Ok("op:update AND table:Customers"));
    }

    [Theory]
    [InlineData("colour:red", "is not a field")]
    [InlineData("acter:olivia", "did you mean actor:olivia")]
    [InlineData("op:upd", "write op:insert, op:update, op:delete, op:event")]
    [InlineData("outofband:maybe", "outofband:true")]
    [InlineData("actor:", "needs a value right after the colon")]
    [InlineData("\"unclosed", "not closed")]
    [InlineData("table:(Customers OR Accounts", "add a ')'")]
    [InlineData("table:()", "is empty")]
    [InlineData("table:(Customers OR)", "ends with OR")]
    [InlineData("table:(Customers Accounts)", "with OR")]
    [InlineData("op:update OR op:delete", "OR joins the values of one field")]
    [InlineData("(op:update)", "Parentheses group the values")]
    [InlineData("- op:update", "right before what to exclude")]
    [InlineData("\"\"", "Empty quotes")]
    public void Mistakes_say_what_to_write_instead(string text, string advice)
    {
        var problem = Bad(text);
        Assert.Contains(advice, problem.Message);
        Assert.InRange(problem.Start, 0, text.Length);
        Assert.InRange(problem.Start + problem.Length, problem.Start + 1, text.Length);
    }

    [Fact]
    public void The_underline_sits_on_the_mistake()
    {
        var text = "op:update colour:red table:Customers";
        var problem = Bad(text);
        Assert.Equal("colour", text.Substring(problem.Start, problem.Length));
    }

    [Fact]
    public void Over_long_input_is_refused_without_parsing_it()
    {
        var problem = Bad(new string('a', 5000));
        Assert.Contains("limit is 2,000", problem.Message);
        Assert.Contains("200", Bad("actor:" + new string('x', 300)).Message);
    }

    [Fact]
    public void The_parser_never_throws_on_junk()
    {
        var random = new Random(7);
        const string alphabet = "ab:()\"-\\ OR NOT AND *op table";
        for (var i = 0; i < 5000; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var result = QueryParser.Parse(text);
            Assert.All(result.Problems, p => Assert.InRange(p.Start + p.Length, 0, Math.Max(1, text.Length)));
        }
    }

    [Theory]
    [InlineData("actor:olivia")]
    [InlineData("-table:(Customers OR \"Account Signatories\") op:update")]
    [InlineData("\"Harbour Road\" -\"say \\\"hi\\\"\" origin:page:/customers/*")]
    [InlineData("record:\"{\\\"Id\\\":7}\" outofband:true")]
    public void Text_round_trips(string text)
    {
        var query = Ok(text);
        Assert.Equal(query, Ok(query.Text));
    }

    [Fact]
    public void Clicking_a_value_adds_a_chip_and_shift_click_flips_it()
    {
        var query = AuditQuery.Empty.With(QueryClause.Of("actor", "olivia"));
        Assert.Equal("actor:olivia", query.Text);
        Assert.Equal(query, query.With(QueryClause.Of("actor", "OLIVIA")));
        var excluded = query.With(QueryClause.Of("actor", "olivia", negated: true));
        Assert.Equal("-actor:olivia", excluded.Text);
        Assert.Equal("actor:olivia", excluded.Inverted(excluded.Clauses[0]).Text);
        Assert.True(excluded.Without(excluded.Clauses[0]).IsEmpty);
    }
}

using ComplianceConsole.Core.Validation;

namespace ComplianceConsole.Core.Tests;

public sealed class IbanTests
{
    [Theory]
    [InlineData("DE89370400440532013000")]
    [InlineData("de89 3704 0044 0532 0130 00")]
    [InlineData("GB82WEST12345698765432")]
    [InlineData("NL91ABNA0417164300")]
    public void Valid_ibans_pass_in_any_spacing_or_case(string iban) => Assert.Null(Ibans.Problem(iban));

    [Theory]
    [InlineData("DE89370400440532013001", "check digits")]
    [InlineData("GB82WEST12345698765433", "check digits")]
    [InlineData("DE8937", "15 to 34")]
    [InlineData("1289370400440532013000", "country code")]
    [InlineData("DE89-3704-0044-0532-0130", "only letters and digits")]
    [InlineData("", "Enter the IBAN")]
    public void Bad_ibans_get_a_message_that_says_what_is_wrong(string iban, string message) => Assert.Contains(message, Ibans.Problem(iban));

    [Fact]
    public void Normalize_removes_spaces_and_upper_cases() => Assert.Equal("DE89370400440532013000", Ibans.Normalize(" de89 3704 0044 0532 0130 00 "));
}

namespace SafeHaven.Gateway.Tests.Ecosystems.PyPI;

/// <summary>Project pages shaped like the ones pypi.org serves (trimmed to a few files).</summary>
internal static class PyPIPages
{
    public static readonly Uri RequestsPage = new("https://pypi.org/simple/requests/");

    public const string Sha256Whl2310 = "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f";
    public const string Sha256Sdist2310 = "942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1";
    public const string Sha256Metadata2310 = "7b2b2c1b8e4ee8d5b1a0f1f6e2a5c9d3f8f0e4b7a6c5d4e3f2a1b0c9d8e7f6a5";
    public const string Sha256Whl2320 = "f2c3881dddb70d056c5bd7600a4fae312b2a300e39be6a118d30b90bd27262b5";
    public const string Sha256Whl0200 = "813202ace4d9301a3c00740c700e012fb9f3f8c73ddcfe02ab558a8df6f175fd";

    /// <summary>PEP 691 JSON (api-version 1.1, with PEP 700 and PEP 714 fields), as Warehouse serves it.</summary>
    public const string RequestsJson = """
        {
          "files": [
            {
              "core-metadata": false,
              "data-dist-info-metadata": false,
              "filename": "requests-0.2.0.tar.gz",
              "hashes": { "sha256": "813202ace4d9301a3c00740c700e012fb9f3f8c73ddcfe02ab558a8df6f175fd" },
              "requires-python": null,
              "size": 5767,
              "upload-time": "2011-02-14T16:28:05.036018Z",
              "url": "https://files.pythonhosted.org/packages/ba/bb/dfa0141a32d773c47e4dede1a617c59a23b74dd302e449cf85413fc96bc4/requests-0.2.0.tar.gz",
              "yanked": false
            },
            {
              "core-metadata": { "sha256": "7b2b2c1b8e4ee8d5b1a0f1f6e2a5c9d3f8f0e4b7a6c5d4e3f2a1b0c9d8e7f6a5" },
              "data-dist-info-metadata": { "sha256": "7b2b2c1b8e4ee8d5b1a0f1f6e2a5c9d3f8f0e4b7a6c5d4e3f2a1b0c9d8e7f6a5" },
              "filename": "requests-2.31.0-py3-none-any.whl",
              "hashes": { "sha256": "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f" },
              "requires-python": ">=3.7",
              "size": 62574,
              "upload-time": "2023-05-22T15:12:42.313790Z",
              "url": "https://files.pythonhosted.org/packages/70/8e/0e2d847013cb52cd35b38c009bb167a1a26b2ce6cd6965bf26b47bc0bf44/requests-2.31.0-py3-none-any.whl",
              "yanked": false
            },
            {
              "core-metadata": false,
              "data-dist-info-metadata": false,
              "filename": "requests-2.31.0.tar.gz",
              "hashes": { "sha256": "942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1" },
              "requires-python": ">=3.7",
              "size": 110794,
              "upload-time": "2023-05-22T15:12:44.175075Z",
              "url": "https://files.pythonhosted.org/packages/9d/be/10918a2eac4ae9f02f6cfe6414b7a155ccd8f7f9d4380d62fd5b955065c3/requests-2.31.0.tar.gz",
              "yanked": false
            },
            {
              "core-metadata": true,
              "data-dist-info-metadata": true,
              "filename": "requests-2.32.0-py3-none-any.whl",
              "hashes": { "sha256": "f2c3881dddb70d056c5bd7600a4fae312b2a300e39be6a118d30b90bd27262b5" },
              "requires-python": ">=3.8",
              "size": 63599,
              "upload-time": "2024-05-20T15:32:04.102591Z",
              "url": "https://files.pythonhosted.org/packages/24/e8/0ad6d3ec3c84e8e5c1ac8a2b9a81f1e6f1e4e0d1fc5e4b2f6c3e8b1f6a4c/requests-2.32.0-py3-none-any.whl",
              "yanked": "Yanked due to conflicts with CVE-2024-35195 mitigation"
            }
          ],
          "meta": { "_last-serial": 23362386, "api-version": "1.1" },
          "name": "requests",
          "versions": ["0.2.0", "2.31.0", "2.32.0"]
        }
        """;

    /// <summary>The same page as PEP 503 HTML with the PEP 592/658/714 attributes, as Warehouse serves it.</summary>
    public const string RequestsHtml = """
        <!DOCTYPE html>
        <html>
          <head>
            <meta name="pypi:repository-version" content="1.1">
            <title>Links for requests</title>
          </head>
          <body>
            <h1>Links for requests</h1>
            <a href="https://files.pythonhosted.org/packages/ba/bb/dfa0141a32d773c47e4dede1a617c59a23b74dd302e449cf85413fc96bc4/requests-0.2.0.tar.gz#sha256=813202ace4d9301a3c00740c700e012fb9f3f8c73ddcfe02ab558a8df6f175fd" >requests-0.2.0.tar.gz</a><br />
            <a href="https://files.pythonhosted.org/packages/70/8e/0e2d847013cb52cd35b38c009bb167a1a26b2ce6cd6965bf26b47bc0bf44/requests-2.31.0-py3-none-any.whl#sha256=58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f" data-requires-python="&gt;=3.7" data-dist-info-metadata="sha256=7b2b2c1b8e4ee8d5b1a0f1f6e2a5c9d3f8f0e4b7a6c5d4e3f2a1b0c9d8e7f6a5" data-core-metadata="sha256=7b2b2c1b8e4ee8d5b1a0f1f6e2a5c9d3f8f0e4b7a6c5d4e3f2a1b0c9d8e7f6a5">requests-2.31.0-py3-none-any.whl</a><br />
            <a href="https://files.pythonhosted.org/packages/9d/be/10918a2eac4ae9f02f6cfe6414b7a155ccd8f7f9d4380d62fd5b955065c3/requests-2.31.0.tar.gz#sha256=942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1" data-requires-python="&gt;=3.7" >requests-2.31.0.tar.gz</a><br />
            <a href="https://files.pythonhosted.org/packages/24/e8/0ad6d3ec3c84e8e5c1ac8a2b9a81f1e6f1e4e0d1fc5e4b2f6c3e8b1f6a4c/requests-2.32.0-py3-none-any.whl#sha256=f2c3881dddb70d056c5bd7600a4fae312b2a300e39be6a118d30b90bd27262b5" data-requires-python="&gt;=3.8" data-dist-info-metadata="true" data-core-metadata="true" data-yanked="Yanked due to conflicts with CVE-2024-35195 mitigation">requests-2.32.0-py3-none-any.whl</a><br />
          </body>
        </html>
        <!--SERIAL 23362386-->
        """;
}

"""The ``imgsdk`` command line: ``generate``, ``models``, ``batch``, ``compare`` and ``cassettes check``.

Exit codes: 0 ok; 2 usage, config or invalid request; 3 refused by the provider (policy, auth, quota);
4 transient failure after retries. Warnings go to stderr, results to stdout. Only argparse is imported
until a command runs, so ``imgsdk --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imgsdk", description="One honest interface over text-to-image APIs.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    generate = commands.add_parser("generate", help="generate images and save them",
                                   description="Generate images. With no provider configured and no key, the "
                                   "offline placeholder renderer (local:placeholder) serves.")
    generate.add_argument("prompt", help="the prompt; may hold {{ name }} references filled by --var")
    generate.add_argument("--provider", "-p", help="a profile name from imgsdk.toml, or adapter:model")
    generate.add_argument("--size", help="WxH (1024x1024, 1792x1024, 1024x1792...) or an aspect ratio W:H")
    generate.add_argument("--quality", help="standard or hd (node vocabulary), or the model's own")
    generate.add_argument("--style", help="vivid or natural (DALL·E 3)")
    generate.add_argument("-n", type=int, default=None, help="number of images (default: the profile's, else 1)")
    generate.add_argument("--seed", type=int, help="seed, where the model supports one")
    generate.add_argument("--negative-prompt", help="what to keep out of the image, where supported")
    generate.add_argument("--format", dest="output_format", help="png, jpeg or webp")
    generate.add_argument("--strict", action="store_true",
                          help="refuse instead of dropping or adapting options the model lacks")
    generate.add_argument("-o", "--output", default=".", help="a file (fox.png) or a directory (default: .)")
    generate.add_argument("--json", action="store_true",
                          help="print url, revised_prompt, size, warnings and paths as JSON")
    generate.add_argument("--config", help="config file (default: $IMGSDK_CONFIG, ./imgsdk.toml, user config)")
    generate.add_argument("--var", action="append", default=[], metavar="KEY=VALUE",
                          help="a template variable; dotted keys nest (--var step.output.text=...)")

    models = commands.add_parser("models", help="list models with capabilities, prices and lifecycle")
    models.add_argument("adapter", nargs="?", help="only this adapter")
    models.add_argument("--json", action="store_true", help="print the declarations as JSON")
    models.add_argument("--markdown", action="store_true", help="print the capability matrix as Markdown")

    batch = commands.add_parser("batch", help="generate one request per line of a JSONL file",
                                description="One request per line (prompt, options, optional id and template "
                                "variables); a manifest records each result; --resume never pays twice.")
    batch.add_argument("file", help="a JSONL file of requests")
    batch.add_argument("--out", required=True, help="directory for the images and the manifest")
    batch.add_argument("--provider", "-p", help="a profile name or adapter:model (a line may override it)")
    batch.add_argument("--concurrency", type=int, default=4, help="requests in flight at once (default 4)")
    batch.add_argument("--resume", action="store_true",
                       help="skip lines the manifest records as done; finish submitted jobs without paying "
                       "again, then ask only for the calls never submitted (each with its own seed)")
    batch.add_argument("--config", help="config file")
    batch.add_argument("--strict", action="store_true", help="refuse options the model lacks")

    compare = commands.add_parser("compare", help="send one prompt to several providers; a contact sheet",
                                  description="The same request sent to several profiles concurrently.")
    compare.add_argument("prompt", help="the prompt, the same for every provider")
    compare.add_argument("--providers", required=True, help="comma-separated profiles or adapter:model")
    compare.add_argument("--size", help="WxH or W:H for every provider (default: each one's own)")
    compare.add_argument("--quality", help="standard or hd, or the models' own")
    compare.add_argument("--style", help="vivid or natural (DALL·E 3)")
    compare.add_argument("-o", "--output", default="compare.png",
                         help="the contact sheet: .png/.jpg/.webp, or a directory (default compare.png)")
    compare.add_argument("--html", help="also write a self-contained HTML report")
    compare.add_argument("--config", help="config file")

    cassettes = commands.add_parser("cassettes", help="check recorded cassettes before committing them")
    cassettes_commands = cassettes.add_subparsers(dest="cassettes_command", metavar="ACTION", required=True)
    check = cassettes_commands.add_parser("check", help="fail on credentials or oversized payloads")
    check.add_argument("directory", nargs="?", default="cassettes")
    check.add_argument("--max-kb", type=int, default=256, help="largest cassette allowed (default 256 KB)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from imgsdk import __version__

        print(f"imgsdk {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    from imgsdk.errors import ImgSDKError

    try:
        # Each command's module is imported only when it runs, so --help stays fast.
        module = {"generate": "generate", "models": "models", "batch": "batch", "compare": "compare",
                  "cassettes": "cassettes"}[args.command]
        import importlib

        run = getattr(importlib.import_module(f"{__name__}.{module}"), f"run_{module}")
        return int(run(args))
    except ImgSDKError as error:
        print(f"imgsdk: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("imgsdk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `imgsdk models | head`: the reader left; exit quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())

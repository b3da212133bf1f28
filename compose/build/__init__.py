"""compose.build: a Dockerfile builder inside pycompose (no daemon, no context upload).

Load/plan (pure, no root)::

    parser.parse(text) -> Dockerfile            lines, directives, heredocs (BuildKit's parser)
    instructions.parse_stages(dockerfile)       typed instructions per stage, global ARGs
    frontend.plan_build(text, options, resolve) -> plan.BuildPlan
                                                ARG/ENV scoping, expansion, stage graph, config
    ignore.IgnoreRules.for_context(dir, dockerfile)   .dockerignore (BuildKit's matcher)

Apply (root): the executor runs the plan's steps: RUN in containers made by
``compose.runtime`` (the stage's layers as overlay lower dirs), COPY/ADD into new layer
directories, each layer committed to the image store (``compose.images``) that pulls use,
looked up first in a content-addressed cache (see ``cachekeys``).

Parser choice: a port of BuildKit's parser, lexer and pattern matcher (their own test data are
this package's conformance tests) rather than a dependency: ``dockerfile`` (cgo) is archived
and x86-only, ``dockerfile-parse`` has no heredocs, ``e2b-dockerfile-utils`` deviates on
COPY word splitting and ONBUILD; none gives line-exact errors or the instruction semantics,
which are most of the work anyway.
"""

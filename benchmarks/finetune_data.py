"""The domain data of benchmarks/finetune.py: invented terms, sentence templates, voices.

Every term is made up (product names, jargon, people's names), so the base model cannot know
them. Training and held-out sentences come from disjoint templates: the held-out ones put the
same terms in contexts never trained on.
"""

from __future__ import annotations

import itertools
import random

TERMS = (
    "Veltrion", "Zorbex", "Quandrix", "Kestrafy", "Nimbalo", "Ostravec", "Thalvorn",
    "Brixley", "Jandula", "Corvantis", "Mirelle Okafor", "Dr Sunniva Rask", "Plexidrome",
    "Hyperkarn", "Syntaxel", "Glimmerstack", "Vorpulse", "Trundlewick", "Ambrosyne",
    "Fenwarra",
)

TRAIN_TEMPLATES = (
    "We deploy {a} to the {b} cluster tonight.",
    "The {a} dashboard shows a spike in {b} errors.",
    "Please ask {a} to review the {b} proposal.",
    "Our {a} pipeline failed because {b} was offline.",
    "{a} and {b} share the same staging database.",
    "Restart the {a} service before the {b} demo.",
    "The quarterly report compares {a} with {b}.",
    "I moved the {a} tickets into the {b} backlog.",
    "Can you send the {a} invoice to {b} today?",
    "The new {a} release depends on {b} version two.",
    "{a} needs more memory than {b} on Fridays.",
    "We replaced {a} with {b} in the checkout flow.",
    "The {a} team meets the {b} team every Monday.",
    "Let's benchmark {a} against {b} next sprint.",
    "Customers love how {a} integrates with {b}.",
    "The outage started in {a} and spread to {b}.",
    "Schedule a call with {a} about the {b} contract.",
    "Our {a} license covers every {b} workstation.",
    "The {a} logs mention {b} three times.",
    "Migrate the {a} configuration before touching {b}.",
    "{a} approved the budget for {b} yesterday.",
    "The intern wrote a plugin that connects {a} to {b}.",
    "Turn off {a} while the {b} backup runs.",
    "Nobody expected {a} to outperform {b}.",
    "The {a} roadmap mentions {b} for the autumn.",
    "Support tickets about {a} doubled after the {b} update.",
    "Check whether {a} still talks to {b} over the VPN.",
    "The {a} prototype runs on top of {b}.",
    "Write the {a} summary and attach the {b} chart.",
    "Security flagged {a} because of an old {b} library.",
    "Please add {a} to the {b} mailing list.",
    "The board asked why {a} costs more than {b}.",
)

HELDOUT_TEMPLATES = (
    "Honestly, {a} surprised everyone at the {b} workshop.",
    "My sister bought shares in {a} after reading about {b}.",
    "Without {a}, the {b} migration would have taken months.",
    "The podcast interviewed {a} about the future of {b}.",
    "I keep confusing {a} with {b} in my notes.",
    "Tomorrow morning {a} presents the {b} results.",
    "A reporter asked whether {a} will ever replace {b}.",
    "Last winter {a} and {b} merged their offices.",
    "The museum exhibit features {a} next to {b}.",
    "Grandma asked me to explain {a} and {b} again.",
    "During lunch we argued about {a} versus {b}.",
    "The conference badge said {a}, but the talk was about {b}.",
)

# Everyday sentences recorded alongside the domain ones (a user of the wizard reads the
# bundled general prompts too): they keep the model from hearing an invented term in every
# name. Ordinary first names, none from the reference clips.
GENERAL_EXTRA = (
    "Thanks, John, that was really helpful.", "Mary will pick up the children at four.",
    "I told Sarah the train was late again.", "Peter and Emma moved to a bigger flat.",
    "Could you ask David to call me back?", "Lucy baked a cake for her grandmother.",
    "James forgot his keys at the office.", "Anna says the museum is closed on Mondays.",
    "Michael plays the piano every evening.", "Tell Robert the meeting starts at nine.",
    "Kate and her brother walked to the market.", "We had dinner with Tom and Alice.",
)

# espeak-ng voices: two for training, an unseen accent and variant for the held-out clips.
TRAIN_VOICES = ("en-us", "en-gb+f2")
HELDOUT_ESPEAK = "en-us-nyc+f4"
PIPER = "piper-joe"   # the neural voice, used for both (new sentences when held out)


def general_sentences() -> list[str]:
    """The bundled general and meeting prompts plus sentences with ordinary names."""
    from pathlib import Path

    prompts = Path(__file__).resolve().parents[1] / "resources" / "prompts"
    out = []
    for name in ("general.txt", "meetings.txt"):
        out += [" ".join(x.split()) for x in (prompts / name).read_text().splitlines()
                if x.strip() and not x.startswith("#")]
    return out + list(GENERAL_EXTRA)


def sentences(templates: tuple[str, ...], per_template: int, seed: int) -> list[str]:
    """Fill each template with ``per_template`` different ordered pairs of terms."""
    rng = random.Random(seed)
    pairs = [p for p in itertools.permutations(TERMS, 2)]
    out = []
    for template in templates:
        for a, b in rng.sample(pairs, per_template):
            out.append(template.format(a=a, b=b))
    return out


def train_sentences() -> list[str]:
    """At least 150 training sentences (32 templates × 5 term pairs = 160)."""
    return sentences(TRAIN_TEMPLATES, 5, seed=1)


def heldout_sentences() -> list[str]:
    """Held-out sentences from templates never trained on (12 × 4 = 48)."""
    return sentences(HELDOUT_TEMPLATES, 4, seed=2)

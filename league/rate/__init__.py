"""Results and ratings: ranks to scores, TrueSkill, standings, Bradley-Terry, Nash views, SPRT."""

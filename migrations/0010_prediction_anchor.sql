-- Market-anchored predictions: each stored prediction records the anchor its probability started from (the
-- margin-free price it sits beside), and the price a bettor is actually paid at after an exchange's commission.
--
-- Rows written before this migration have no anchor on record: the anchor columns stay NULL for them (a NULL
-- anchor_source means "not recorded", never "none": a market without an anchor has no probability and is not
-- stored at all), and best_price_net NULL means best_price itself (no exchange commission was deducted then).

ALTER TABLE predictions
  -- pinnacle: Pinnacle's price; consensus: the average of the fixed list of bookmakers.
  ADD COLUMN anchor_source            text CHECK (anchor_source IN ('pinnacle', 'consensus')),
  ADD COLUMN anchor_bookmakers        text[],
  -- The newest update of the anchor's prices, and how long before kick-off that was.
  ADD COLUMN anchor_last_update       timestamptz,
  ADD COLUMN anchor_hours_to_kickoff  double precision,
  -- best_price after the exchange's commission (= best_price at a bookmaker): EV, Kelly and the settled
  -- profit use it.
  ADD COLUMN best_price_net           numeric(10, 4),
  ADD COLUMN exchange_commission      double precision CHECK (exchange_commission >= 0 AND exchange_commission < 1);

-- `npm run evaluate -- --live` and settlement's live performance compare a prediction with the anchor it had.
ALTER TABLE predictions
  ADD CONSTRAINT predictions_anchor_complete CHECK (
    (anchor_source IS NULL AND anchor_bookmakers IS NULL AND anchor_last_update IS NULL AND anchor_hours_to_kickoff IS NULL)
    OR (anchor_source IS NOT NULL AND anchor_bookmakers IS NOT NULL AND anchor_last_update IS NOT NULL AND anchor_hours_to_kickoff IS NOT NULL)
  );

'use client';

import ChevronLeftIcon from '@mui/icons-material/ChevronLeft';
import ChevronRightIcon from '@mui/icons-material/ChevronRight';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Typography from '@mui/material/Typography';
import { useCallback, useState } from 'react';

/** Cursor paging: cursors[i] loads page i (page 0 has none). */
export function useCursorPager() {
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const index = cursors.length - 1;
  return {
    index,
    cursor: cursors[index],
    next: useCallback((cursor: string) => setCursors((c) => [...c, cursor]), []),
    previous: useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []),
    reset: useCallback(() => setCursors([undefined]), []),
  };
}

export function Pager({
  index,
  nextCursor,
  loading,
  onNext,
  onPrevious,
}: {
  index: number;
  nextCursor: string | null | undefined;
  loading: boolean;
  onNext: (cursor: string) => void;
  onPrevious: () => void;
}) {
  if (index === 0 && !nextCursor) return null;
  return (
    <Box component="nav" aria-label="Pages" sx={{ display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 1, mt: 2 }}>
      <Typography variant="body2" sx={{ color: 'text.secondary', mr: 1 }}>
        Page {index + 1}
      </Typography>
      <Button size="small" startIcon={<ChevronLeftIcon />} disabled={index === 0 || loading} onClick={onPrevious}>
        Previous
      </Button>
      <Button
        size="small"
        endIcon={<ChevronRightIcon />}
        disabled={!nextCursor || loading}
        onClick={() => {
          if (nextCursor) onNext(nextCursor);
        }}
      >
        Next
      </Button>
    </Box>
  );
}

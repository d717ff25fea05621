import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import { Link } from '@/components/Link';

export default function NotFound() {
  return (
    <Box component="main" sx={{ minHeight: '100vh', display: 'grid', placeItems: 'center', textAlign: 'center', p: 2 }}>
      <Box>
        <Typography variant="h1" sx={{ mb: 1 }}>
          Page not found
        </Typography>
        <Typography sx={{ color: 'text.secondary', mb: 2 }}>There is nothing at this address.</Typography>
        <Link href="/">Back to the overview</Link>
      </Box>
    </Box>
  );
}
